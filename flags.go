package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/llm"
)

// Flag names shared by the commands that reach the services.
const (
	flagAuditToken    = "audit-token"
	flagAuditConfigID = "audit-config-id"
	flagPangeaDomain  = "pangea-domain"
	flagOpenAIKey     = "openai-api-key"
	flagOpenAIBaseURL = "openai-base-url"
	flagInsecure      = "insecure"
	flagModel         = "model"
)

// Environment variables, as the original example reads them.
const (
	envAuditToken    = "PANGEA_AUDIT_TOKEN"
	envAuditConfigID = "PANGEA_AUDIT_CONFIG_ID"
	envPangeaDomain  = "PANGEA_DOMAIN"
	envOpenAIKey     = "OPENAI_API_KEY"
	envOpenAIBaseURL = "OPENAI_BASE_URL"
)

// auditFlags reach Secure Audit Log. Help shows a secret flag's variable,
// never its value (a test holds urfave/cli to that).
func auditFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagAuditToken, EnvVars: []string{envAuditToken},
			Usage: "Pangea Secure Audit Log API token"},
		&cli.StringFlag{Name: flagAuditConfigID, EnvVars: []string{envAuditConfigID},
			Usage: "Pangea Secure Audit Log configuration ID"},
		&cli.StringFlag{Name: flagPangeaDomain, EnvVars: []string{envPangeaDomain}, Value: "aws.us.pangea.cloud",
			Usage: "Pangea API domain, or a full URL such as http://127.0.0.1:8080 for a proxy"},
		&cli.BoolFlag{Name: flagInsecure,
			Usage: "allow plaintext http:// to hosts other than this machine"},
	}
}

// modelFlags reach the model.
func modelFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagOpenAIKey, EnvVars: []string{envOpenAIKey},
			Usage: "OpenAI API key"},
		&cli.StringFlag{Name: flagOpenAIBaseURL, EnvVars: []string{envOpenAIBaseURL}, DefaultText: llm.DefaultBaseURL,
			Usage: "base URL of any OpenAI-compatible API (vLLM, Ollama, LM Studio, a gateway)"},
		&cli.IntFlag{Name: "retries", Value: 4, Usage: "retries of a model call that failed with 429, 5xx, a timeout or a dropped connection"},
		&cli.DurationFlag{Name: "timeout", Value: 60 * time.Second, Usage: "time limit of one model call"},
	}
}

// auditConfig reads the audit flags. A missing token is a usage error that
// names the flag and the variable.
func auditConfig(c *cli.Context, concurrency int) (audit.Config, error) {
	token := c.String(flagAuditToken)
	if token == "" {
		return audit.Config{}, usagef("no Pangea audit token: pass --%s or set %s", flagAuditToken, envAuditToken)
	}
	return audit.Config{
		Domain:      c.String(flagPangeaDomain),
		Token:       token,
		ConfigID:    c.String(flagAuditConfigID),
		Insecure:    c.Bool(flagInsecure),
		Concurrency: concurrency,
		Retries:     4,
	}, nil
}

// modelConfig reads the model flags. A missing key is a usage error that
// names the flag and the variable.
func modelConfig(c *cli.Context, concurrency int) (llm.Config, error) {
	key := c.String(flagOpenAIKey)
	if key == "" {
		return llm.Config{}, usagef("no OpenAI API key: pass --%s or set %s", flagOpenAIKey, envOpenAIKey)
	}
	return llm.Config{
		BaseURL:     c.String(flagOpenAIBaseURL),
		APIKey:      key,
		Insecure:    c.Bool(flagInsecure),
		Timeout:     c.Duration("timeout"),
		Retries:     c.Int("retries"),
		Concurrency: concurrency,
	}, nil
}

// newAudit builds the audit client, refusing a bad domain as a usage error.
func newAudit(cfg audit.Config) (*audit.Client, error) {
	cl, err := audit.NewClient(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	return cl, nil
}

// newModel builds the model client, refusing a bad URL as a usage error.
func newModel(cfg llm.Config) (*llm.Client, error) {
	cl, err := llm.New(cfg)
	if err != nil {
		return nil, usageError{err}
	}
	return cl, nil
}
