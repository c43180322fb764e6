package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/runner"
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
		&cli.BoolFlag{Name: "audit-responses", Usage: "record every answer in the audit log too (inference:response events)"},
		&cli.StringFlag{Name: "audit-schema", Value: "ai", Usage: "event shape: ai (the AI Audit Log Schema) or standard"},
		&cli.StringFlag{Name: "audit-context", Value: "full", Usage: "record contexts in full, or as sha256 and length"},
		&cli.StringFlag{Name: "audit-signing-key", Usage: "sign every event with the ed25519 key in `FILE` (openssl genpkey -algorithm ed25519)"},
		&cli.BoolFlag{Name: "verify-proofs", Usage: "ask for verbose receipts and record the hash, membership and consistency checks of each"},
		&cli.IntFlag{Name: "audit-retries", Value: 4, Usage: "retries of an audit call that failed with 429, 5xx or a dropped connection"},
		&cli.BoolFlag{Name: "audit-preflight", Value: true, Usage: "check the config's schema before sending anything (--audit-preflight=false to skip)"},
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
	if c.Int("audit-retries") < 0 {
		return audit.Config{}, usagef("--audit-retries must be 0 or more")
	}
	cfg := audit.Config{
		Domain:      c.String(flagPangeaDomain),
		Token:       token,
		ConfigID:    c.String(flagAuditConfigID),
		Insecure:    c.Bool(flagInsecure),
		Concurrency: concurrency,
		Retries:     c.Int("audit-retries"),
		Verbose:     c.Bool("verify-proofs"),
	}
	if path := c.String("audit-signing-key"); path != "" {
		s, err := audit.LoadSigner(path)
		if err != nil {
			return audit.Config{}, usageError{err}
		}
		cfg.Signer = s
	}
	return cfg, nil
}

// eventFormat reads the audit event flags.
func eventFormat(c *cli.Context) (audit.Format, error) {
	schema, err := audit.ParseSchema(c.String("audit-schema"))
	if err != nil {
		return audit.Format{}, usageError{err}
	}
	mode, err := audit.ParseContextMode(c.String("audit-context"))
	if err != nil {
		return audit.Format{}, usageError{err}
	}
	return audit.Format{Schema: schema, Context: mode}, nil
}

// preflight reads the audit config's schema and checks that the events of
// this run fit it. A config that cannot take them is a usage error: nothing
// was sent. A schema that cannot be read is said once, and the run goes on
// without the check (nil).
func preflight(c *cli.Context, ac *audit.Client, format audit.Format) (*runner.Preflight, error) {
	if !c.Bool("audit-preflight") {
		return nil, nil
	}
	pf, err := runner.NewPreflight(c.Context, ac, format, c.Bool("audit-responses"))
	switch {
	case err == nil:
		return pf, nil
	case errors.Is(err, audit.ErrSchemaUnreadable):
		fmt.Fprintf(c.App.ErrWriter, "tracebatch: note: %v; going on without the preflight check\n", err)
		return nil, nil
	}
	return nil, usageError{fmt.Errorf("audit preflight: %w", err)}
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
