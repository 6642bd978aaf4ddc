module github.com/pilotkit/pilot

go 1.26

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
)

require (
	github.com/creack/pty v1.1.24 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/sashabaranov/go-openai v1.43.0 // indirect
	github.com/tmc/langchaingo v0.1.14 // indirect
	go.bug.st/serial v1.8.0 // indirect
	gocv.io/x/gocv v0.32.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
)
