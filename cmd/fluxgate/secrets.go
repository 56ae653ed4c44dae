package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/render/sops"
	"github.com/fluxgate/fluxgate/validate"
)

// secretOptions are the flags about Secrets shared by the commands.
type secretOptions struct {
	keyFiles    []string
	showSecrets bool
}

func addSecretFlags(cmd *cobra.Command, o *secretOptions, show bool) {
	cmd.Flags().StringSliceVar(&o.keyFiles, "decryption-key-file", nil,
		"age key file or armored PGP private key file (gpg --export-secret-keys --armor) for SOPS decryption, told apart by content "+
			"(repeatable; SOPS_AGE_KEY and SOPS_AGE_KEY_FILE are read too; GNUPGHOME and gpg are not used)")
	if show {
		cmd.Flags().BoolVar(&o.showSecrets, "show-secrets", false, "print Secret values instead of a mask (only on a terminal)")
	}
}

// decryptor gathers the age identities and PGP private keys from the flags
// and the environment; nil when there are none. Like kustomize-controller,
// which reads keys only from its decryption Secret, it does not look at
// GNUPGHOME, a gpg keyring or agent.
func (o secretOptions) decryptor() (*sops.Decryptor, error) {
	var keys, sources []string
	for _, f := range o.keyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--decryption-key-file: %w", err)
		}
		keys, sources = append(keys, string(data)), append(sources, f)
	}
	if k := os.Getenv("SOPS_AGE_KEY"); k != "" {
		keys, sources = append(keys, k), append(sources, "SOPS_AGE_KEY")
	}
	if f := os.Getenv("SOPS_AGE_KEY_FILE"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("SOPS_AGE_KEY_FILE: %w", err)
		}
		keys, sources = append(keys, string(data)), append(sources, f)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	dec, err := sops.NewDecryptor(keys...)
	if err != nil {
		return nil, fmt.Errorf("decryption keys (%s): %w", strings.Join(sources, ", "), err)
	}
	return dec, nil
}

// secretMask replaces Secret values in output.
const secretMask = "**redacted**"

// secretMaskData is secretMask in base64, for a Secret's data.
const secretMaskData = "KipyZWRhY3RlZCoq"

// redactSecrets masks the values of every Secret's data and stringData, and
// every value that came from a Secret (decrypted data, substituteFrom Secret
// variables) wherever it appears. SOPS ciphertext stays.
func redactSecrets(res *render.Result) {
	sensitive := render.SensitiveValues(res)
	for _, u := range res.Units {
		for _, o := range u.Objects {
			maskValues(o.Object, sensitive)
			if o.Object["kind"] != "Secret" || o.Object["apiVersion"] != "v1" {
				continue
			}
			if _, encrypted := o.Object["sops"]; encrypted {
				continue
			}
			for _, field := range []string{"data", "stringData"} {
				m, ok := o.Object[field].(map[string]any)
				if !ok {
					continue
				}
				masked := make(map[string]any, len(m))
				for k := range m {
					if field == "data" {
						masked[k] = secretMaskData
					} else {
						masked[k] = secretMask
					}
				}
				o.Object[field] = masked
			}
		}
	}
}

// maskValues replaces sensitive substrings in every string of an object.
func maskValues(v any, sensitive []string) any {
	if len(sensitive) == 0 {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = maskValues(e, sensitive)
		}
	case []any:
		for i, e := range t {
			t[i] = maskValues(e, sensitive)
		}
	case string:
		for _, s := range sensitive {
			t = strings.ReplaceAll(t, s, secretMask)
		}
		return t
	}
	return v
}

// redactFindings masks Secret-derived values in finding messages.
func redactFindings(rep *validate.Report, res *render.Result) {
	sensitive := render.SensitiveValues(res)
	for i := range rep.Findings {
		for _, s := range sensitive {
			rep.Findings[i].Message = strings.ReplaceAll(rep.Findings[i].Message, s, secretMask)
		}
	}
}
