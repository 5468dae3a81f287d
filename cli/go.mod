module github.com/watchtower/authplane/cli

go 1.26.0

replace github.com/watchtower/authplane/proto => ../proto
replace github.com/watchtower/authplane/platform => ../platform
replace github.com/watchtower/authplane/services/identity => ../services/identity
replace github.com/watchtower/authplane/services/ingestion => ../services/ingestion
replace github.com/watchtower/authplane/services/authz => ../services/authz
