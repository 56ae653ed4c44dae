package helm

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxgate/fluxgate/fleet"
)

// Environment variables that give a chart source its credentials when
// its Secret is not in the repository (the usual case in CI). The
// variable names the source object: FLUXGATE_HELM_<NAMESPACE>_<NAME>_<KEY>
// with namespace and name upper-cased and every character that is not a
// letter or a digit replaced by "_" (HelmRepository apps/my-charts:
// FLUXGATE_HELM_APPS_MY_CHARTS_USERNAME). They win over the Secret.
const (
	envHelmPrefix = "FLUXGATE_HELM_"
	// envUsername and envPassword are basic-auth credentials (HTTP
	// HelmRepository, OCI HelmRepository, OCIRepository).
	envUsername = "_USERNAME"
	envPassword = "_PASSWORD"
	// envCAFile, envCertFile and envKeyFile are paths of PEM files: the CA
	// bundle trusted in addition to the system's, and a client certificate
	// and its key (certSecretRef's ca.crt, tls.crt and tls.key).
	envCAFile   = "_CA_FILE"
	envCertFile = "_CERT_FILE"
	envKeyFile  = "_KEY_FILE"
)

// CredentialsEnv returns the prefix of the environment variables that
// hold the credentials of the chart source namespace/name:
// FLUXGATE_HELM_<NAMESPACE>_<NAME>, followed by _USERNAME, _PASSWORD,
// _CA_FILE, _CERT_FILE or _KEY_FILE.
func CredentialsEnv(namespace, name string) string {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return unicode.ToUpper(r)
			}
			return '_'
		}, s)
	}
	return envHelmPrefix + norm(namespace) + "_" + norm(name)
}

// Access is how a chart source is reached: basic-auth credentials and
// TLS settings from its spec.secretRef and spec.certSecretRef, or from the
// environment. It is never printed.
type Access struct {
	// what names the source object, Kind/namespace/name.
	what               string
	username, password string
	// passCredentials sends the credentials to chart URLs on other hosts
	// than the repository's (spec.passCredentials).
	passCredentials bool
	tls             *tls.Config
	// insecure is spec.insecure: plain HTTP to an OCI registry.
	insecure bool
	// env is the prefix of the source's credential variables.
	env string
	// from says where the credentials came from, and secretRef names
	// the spec.secretRef Secret, for messages.
	from, secretRef string
}

// accessID names the source an access belongs to, for in-process maps.
func accessID(a *Access) string {
	if a == nil {
		return ""
	}
	return a.what
}

func (a *Access) hasAuth() bool { return a != nil && (a.username != "" || a.password != "") }

// authHint explains an authentication failure without any credential.
func (a *Access) authHint() string {
	if a == nil {
		return ""
	}
	if a.hasAuth() {
		return fmt.Sprintf("; the credentials from %s were rejected", a.from)
	}
	why := "it has no spec.secretRef"
	if a.secretRef != "" {
		why = "its secretRef " + a.secretRef + " is not in the repository or not decrypted"
	}
	return fmt.Sprintf("; no credentials for %s (%s): set %s%s and %s%s",
		a.what, why, a.env, envUsername, a.env, envPassword)
}

// httpClient returns the client that reaches the source: the shared one,
// or one with the source's TLS settings over a clone of its transport.
func (a *Access) httpClient(shared *http.Client, transport *http.Transport) *http.Client {
	if a == nil || a.tls == nil {
		return shared
	}
	t := transport.Clone()
	t.TLSClientConfig = a.tls
	return &http.Client{Timeout: shared.Timeout, Transport: t}
}

// sendsAuthTo reports whether the credentials go to target: the
// repository's scheme and host, or anywhere with passCredentials, as
// Helm's HTTP getter decides.
func (a *Access) sendsAuthTo(repoURL, target string) bool {
	if !a.hasAuth() {
		return false
	}
	if a.passCredentials {
		return true
	}
	u1, err1 := url.Parse(repoURL)
	u2, err2 := url.Parse(target)
	return err1 == nil && err2 == nil && u1.Scheme == u2.Scheme && u1.Host == u2.Host
}

// SecretFunc returns the data and type of the Secret namespace/name a
// chart source refers to; ok is false when it is not in the repository
// or its values are not readable (encrypted without the key).
type SecretFunc func(namespace, name string) (data map[string]string, typ string, ok bool)

// SourceAccess reads how to reach the chart source obj (HelmRepository or
// OCIRepository) the way source-controller does: spec.certSecretRef
// (ca.crt, tls.crt, tls.key) for TLS, spec.secretRef for basic auth
// (username, password; a kubernetes.io/dockerconfigjson Secret for OCI)
// and, without certSecretRef, TLS keys in the secretRef. The Secrets are
// read with secret; the FLUXGATE_HELM_<NAMESPACE>_<NAME>_* variables
// override them. A Secret that is not in the repository is not a problem:
// Flux reads it from the cluster.
func SourceAccess(kind string, obj map[string]any, secret SecretFunc) (*Access, error) {
	o := unstructured.Unstructured{Object: obj}
	ns, name := o.GetNamespace(), o.GetName()
	a := &Access{what: fleet.ObjectRef(kind, ns, name), env: CredentialsEnv(ns, name)}
	a.insecure, _, _ = unstructured.NestedBool(obj, "spec", "insecure")
	a.passCredentials, _, _ = unstructured.NestedBool(obj, "spec", "passCredentials")
	specURL, _, _ := unstructured.NestedString(obj, "spec", "url")
	typ, _, _ := unstructured.NestedString(obj, "spec", "type")
	oci := kind == "OCIRepository" || typ == "oci" || strings.HasPrefix(specURL, "oci://")
	// HelmRepository trusts the system CAs and the given one;
	// OCIRepository only the given one.
	systemPool := kind == "HelmRepository"

	var tlsData map[string]string
	if ref, _, _ := unstructured.NestedString(obj, "spec", "certSecretRef", "name"); ref != "" {
		if data, _, ok := secret(ns, ref); ok {
			tlsData = data
		}
	}
	if ref, _, _ := unstructured.NestedString(obj, "spec", "secretRef", "name"); ref != "" {
		what := fleet.ObjectRef("Secret", ns, ref)
		a.secretRef = what
		if data, typ, ok := secret(ns, ref); ok {
			if oci && typ == "kubernetes.io/dockerconfigjson" {
				user, pass, err := dockerConfigAuth([]byte(data[".dockerconfigjson"]), specURL)
				if err != nil {
					return nil, fmt.Errorf("secretRef %s: %w", what, err)
				}
				a.username, a.password = user, pass
			} else {
				a.username, a.password = data["username"], data["password"]
			}
			if (a.username == "") != (a.password == "") {
				return nil, fmt.Errorf("secretRef %s: invalid secret data: required fields 'username' and 'password'", what)
			}
			if a.hasAuth() {
				a.from = what
			}
			if tlsData == nil && kind == "HelmRepository" {
				tlsData = data
			}
		}
	}
	if tlsData != nil {
		ca := firstOf(tlsData, "ca.crt", "caFile")
		cert, key := firstOf(tlsData, "tls.crt", "certFile"), firstOf(tlsData, "tls.key", "keyFile")
		if ca != "" || cert != "" || key != "" {
			cfg, err := tlsConfig([]byte(ca), []byte(cert), []byte(key), systemPool)
			if err != nil {
				return nil, fmt.Errorf("TLS settings of %s: %w", a.what, err)
			}
			a.tls = cfg
		}
	}

	user, uok := os.LookupEnv(a.env + envUsername)
	pass, pok := os.LookupEnv(a.env + envPassword)
	if uok || pok {
		if (user == "") != (pass == "") {
			return nil, fmt.Errorf("credentials of %s: set both %s%s and %s%s", a.what, a.env, envUsername, a.env, envPassword)
		}
		a.username, a.password, a.from = user, pass, "the environment ("+a.env+"_*)"
	}
	caFile, cok := os.LookupEnv(a.env + envCAFile)
	certFile, cerok := os.LookupEnv(a.env + envCertFile)
	keyFile, kok := os.LookupEnv(a.env + envKeyFile)
	if cok || cerok || kok {
		var ca, cert, key []byte
		for _, f := range []struct {
			env  string
			path string
			out  *[]byte
		}{{envCAFile, caFile, &ca}, {envCertFile, certFile, &cert}, {envKeyFile, keyFile, &key}} {
			if f.path == "" {
				continue
			}
			b, err := os.ReadFile(f.path)
			if err != nil {
				return nil, fmt.Errorf("%s%s: %w", a.env, f.env, err)
			}
			*f.out = b
		}
		cfg, err := tlsConfig(ca, cert, key, systemPool)
		if err != nil {
			return nil, fmt.Errorf("TLS settings of %s from %s_*: %w", a.what, a.env, err)
		}
		a.tls = cfg
	}
	return a, nil
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// tlsConfig builds a client TLS configuration from PEM data: a CA bundle
// (added to the system pool when systemPool is set) and a client key pair.
func tlsConfig(ca, cert, key []byte, systemPool bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cert) > 0 || len(key) > 0 {
		if len(cert) == 0 || len(key) == 0 {
			return nil, errors.New("a client certificate needs both tls.crt and tls.key")
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, errors.New("tls.crt and tls.key are not a valid PEM key pair")
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if len(ca) > 0 {
		var pool *x509.CertPool
		if systemPool {
			pool, _ = x509.SystemCertPool()
		}
		if pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("ca.crt holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// dockerConfigAuth returns the credentials a Docker config (the
// .dockerconfigjson of a Secret) holds for the registry of registryURL.
func dockerConfigAuth(config []byte, registryURL string) (string, string, error) {
	var cfg struct {
		Auths map[string]struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Auth     string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return "", "", errors.New("unable to load the Docker config: not valid JSON")
	}
	host := dockerHost(registryURL)
	for server, e := range cfg.Auths {
		if dockerHost(server) != host {
			continue
		}
		if e.Auth != "" {
			b, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				return "", "", fmt.Errorf("the auth of %s in the Docker config is not base64", host)
			}
			user, pass, found := strings.Cut(string(b), ":")
			if !found {
				return "", "", fmt.Errorf("the auth of %s in the Docker config is not user:password", host)
			}
			return user, pass, nil
		}
		return e.Username, e.Password, nil
	}
	return "", "", fmt.Errorf("no auth config for '%s' in the docker-registry Secret", host)
}

// dockerHost is the registry host of a URL or Docker config key, as
// Docker's ConvertToHostname reads it.
func dockerHost(s string) string {
	s = strings.TrimPrefix(s, "oci://")
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	host, _, _ := strings.Cut(s, "/")
	return host
}
