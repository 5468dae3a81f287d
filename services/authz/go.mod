module github.com/watchtower/authplane/services/authz

go 1.26.0

replace github.com/watchtower/authplane/proto => ../../proto
replace github.com/watchtower/authplane/platform => ../../platform
