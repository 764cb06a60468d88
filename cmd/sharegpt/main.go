// Command sharegpt turns raw ShareGPT conversation dumps into
// training-ready data. See the repository README for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sharegpt/sharegpt/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Execute(ctx, cmd.System(), os.Args[1:])
	stop()
	os.Exit(code)
}
