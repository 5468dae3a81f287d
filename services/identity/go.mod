module github.com/watchtower/authplane/services/identity

go 1.26.0

replace github.com/watchtower/authplane/proto => ../../proto
replace github.com/watchtower/authplane/platform => ../../platform
