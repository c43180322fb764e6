module tracebatch.invalid/bench/promptfoo

// This module exists only to keep the Go files that npm installs under
// node_modules out of the tracebatch module (go build ./... would compile them).
