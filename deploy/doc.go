// Package deploy holds the checks of WatchTower's deployment files:
// docker-compose.yml (loaded with compose-go exactly as Docker Compose
// would), the Dockerfile, and the Kubernetes manifests under k8s/ (decoded
// strictly into the Kubernetes API types). No Docker engine or cluster is
// needed to run them.
package deploy
