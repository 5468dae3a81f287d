module github.com/watchtower/authplane/gateway

go 1.26.0

replace github.com/watchtower/authplane/proto => ../proto
replace github.com/watchtower/authplane/platform => ../platform
replace github.com/watchtower/authplane/services/session => ../services/session
