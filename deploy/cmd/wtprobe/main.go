// Command wtprobe is the container health check of the WatchTower images:
// it GETs one URL and exits 0 on a 2xx answer, 1 otherwise. The images have
// no shell or curl, so Compose health checks run this instead.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: wtprobe URL")
		os.Exit(2)
	}
	os.Exit(probe(os.Args[1], 3*time.Second))
}

// probe returns the exit status for one GET of url.
func probe(url string, timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wtprobe:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wtprobe:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintln(os.Stderr, "wtprobe:", url, resp.Status)
		return 1
	}
	return 0
}
