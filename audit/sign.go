package audit

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	sdk "github.com/pangeacyber/pangea-go/pangea-sdk/v4/service/audit"
	"golang.org/x/crypto/ssh"
)

// Signer signs events locally with an ed25519 key, the way the Pangea SDKs'
// local signing does: the signature covers the canonicalised event and the
// public key travels with it, so anyone holding the log can check that the
// event was not altered after it left this machine.
type Signer struct {
	key ed25519.PrivateKey
}

// LoadSigner reads an ed25519 private key: PKCS#8 PEM ("BEGIN PRIVATE KEY",
// as `openssl genpkey -algorithm ed25519` writes) or OpenSSH format
// (`ssh-keygen -t ed25519`). Keys protected by a passphrase are refused.
func LoadSigner(path string) (*Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("signing key %s is protected by a passphrase; export an unencrypted copy for signing", path)
		}
		return nil, fmt.Errorf("signing key %s: %v; make one with: openssl genpkey -algorithm ed25519 -out %s", path, err, path)
	}
	switch k := raw.(type) {
	case ed25519.PrivateKey:
		return &Signer{key: k}, nil
	case *ed25519.PrivateKey:
		return &Signer{key: *k}, nil
	}
	return nil, fmt.Errorf("signing key %s is a %T, not ed25519; make one with: openssl genpkey -algorithm ed25519 -out %s", path, raw, path)
}

// NewSigner signs with key.
func NewSigner(key ed25519.PrivateKey) *Signer { return &Signer{key: key} }

// Sign signs msg. It is exported for the SDK's LogEvent.SignEvent.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	return s.key.Sign(rand.Reader, msg, crypto.Hash(0))
}

// PublicKey returns the public key as PKIX PEM, as the SDK sends it.
func (s *Signer) PublicKey() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(s.key.Public())
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// GetAlgorithm names the algorithm as the SDK does.
func (s *Signer) GetAlgorithm() string { return "ED25519" }

// sign fills the event's signature and public key with the SDK's own
// LogEvent.SignEvent, so the signature is what the SDK's verification
// expects.
func (s *Signer) sign(le *sdk.LogEvent) error {
	return le.SignEvent(s, nil)
}
