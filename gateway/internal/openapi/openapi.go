// Package openapi embeds the OpenAPI (Swagger 2.0) document generated from
// the protos by protoc-gen-openapiv2 (`make proto` copies it here).
package openapi

import _ "embed"

// Document is the generated OpenAPI document.
//
//go:embed watchtower.swagger.json
var Document []byte
