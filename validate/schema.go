package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"

	"github.com/fluxgate/fluxgate/render"
)

// Schemas supplies JSON schemas by apiVersion and kind.
type Schemas interface {
	// Schema returns the standalone strict JSON schema of apiVersion/kind.
	Schema(apiVersion, kind string) ([]byte, bool)
}

// schemaChecker validates objects with kubeconform. The schemas a run
// needs are laid out in a private directory in kubeconform's local
// registry layout, each when the first object of its kind is checked;
// kubeconform compiles each once and caches it.
type schemaChecker struct {
	dir       string
	validator validator.Validator
	// schema gives the schema of an apiVersion/kind.
	schema func(apiVersion, kind string) ([]byte, bool)
	// compiled guards the first validation of each apiVersion/kind, so
	// that a schema is written and compiled once even with many workers.
	mu       sync.Mutex
	compiled map[string]*sync.Once
	// failed holds the schemas that could not be written: validation
	// cannot run as it should.
	failed error
}

// err returns the errors of writing schemas so far.
func (c *schemaChecker) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// newSchemaChecker starts a kubeconform validator on the schemas that
// schema gives, followed by the extra schema locations: kubeconform
// skips a kind neither has (IgnoreMissingSchemas).
func newSchemaChecker(schema func(apiVersion, kind string) ([]byte, bool), extra []string, strict bool) (*schemaChecker, error) {
	dir, err := os.MkdirTemp("", "fluxgate-schemas-")
	if err != nil {
		return nil, err
	}
	c := &schemaChecker{dir: dir, schema: schema, compiled: map[string]*sync.Once{}}
	locations := append([]string{filepath.Join(dir, "{{ .Group }}", "{{ .ResourceAPIVersion }}", "{{ .ResourceKind }}.json")}, extra...)
	v, err := validator.New(locations, validator.Opts{Strict: strict, IgnoreMissingSchemas: true, KubernetesVersion: "master"})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("start kubeconform: %w", err)
	}
	c.validator = v
	return c, nil
}

// writeSchema writes the schema of apiVersion/kind, if schema has one,
// where kubeconform looks first.
func (c *schemaChecker) writeSchema(apiVersion, kind string) error {
	data, ok := c.schema(apiVersion, kind)
	if !ok {
		return nil
	}
	p := filepath.Join(c.dir, schemaFile(apiVersion, kind))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// Close removes the schema directory.
func (c *schemaChecker) Close() { os.RemoveAll(c.dir) }

// schemaFile is the path kubeconform's template above resolves to.
func schemaFile(apiVersion, kind string) string {
	group, version := "", apiVersion
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	} else {
		group = apiVersion
	}
	return filepath.Join(group, version, strings.ToLower(kind)+".json")
}

func splitGVK(gvk string) (apiVersion, kind string) {
	i := strings.LastIndex(gvk, "/")
	return gvk[:i], gvk[i+1:]
}

// schemaResult is what checking one object gives.
type schemaResult struct {
	missing bool
	errs    []fieldError
	err     error
}

type fieldError struct {
	path []string
	msg  string
}

// check validates one object. SOPS metadata is not part of any schema and
// is removed first.
func (c *schemaChecker) check(obj map[string]any) schemaResult {
	if _, ok := obj["sops"]; ok {
		cp := make(map[string]any, len(obj))
		for k, v := range obj {
			if k != "sops" {
				cp[k] = v
			}
		}
		obj = cp
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return schemaResult{err: err}
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return c.checkJSON(apiVersion, kind, b)
}

// checkObject validates a rendered object, from its JSON when the render
// holds it so (render.Options.Compact): the bytes check would marshal.
func (c *schemaChecker) checkObject(o *render.Object) schemaResult {
	if o.Object != nil {
		return c.check(o.Object)
	}
	b, err := o.JSON()
	if err != nil {
		return schemaResult{err: err}
	}
	if bytes.Contains(b, []byte(`"sops":`)) {
		return c.check(o.Value()) // check removes SOPS metadata
	}
	apiVersion, kind := o.GVK()
	return c.checkJSON(apiVersion, kind, b)
}

// checkJSON validates an object given as JSON.
func (c *schemaChecker) checkJSON(apiVersion, kind string, b []byte) schemaResult {
	key := apiVersion + "/" + kind
	c.mu.Lock()
	once, ok := c.compiled[key]
	if !ok {
		once = &sync.Once{}
		c.compiled[key] = once
	}
	c.mu.Unlock()
	var res validator.Result
	ran := false
	once.Do(func() {
		if err := c.writeSchema(apiVersion, kind); err != nil {
			c.mu.Lock()
			c.failed = errors.Join(c.failed, fmt.Errorf("write the schema of %s: %w", key, err))
			c.mu.Unlock()
		}
		res = c.validator.ValidateResource(resource.Resource{Bytes: b})
		ran = true
	})
	if !ran {
		res = c.validator.ValidateResource(resource.Resource{Bytes: b})
	}
	switch res.Status {
	case validator.Valid, validator.Empty:
		return schemaResult{}
	case validator.Skipped:
		return schemaResult{missing: true}
	case validator.Invalid:
		out := schemaResult{}
		for _, ve := range res.ValidationErrors {
			var path []string
			for _, p := range strings.Split(strings.TrimPrefix(ve.Path, "/"), "/") {
				if p != "" {
					path = append(path, p)
				}
			}
			out.errs = append(out.errs, fieldError{path: path, msg: ve.Msg})
		}
		if len(out.errs) == 0 && res.Err != nil {
			out.errs = append(out.errs, fieldError{msg: res.Err.Error()})
		}
		sort.SliceStable(out.errs, func(i, j int) bool {
			return strings.Join(out.errs[i].path, "/") < strings.Join(out.errs[j].path, "/")
		})
		return out
	default:
		if res.Err != nil {
			return schemaResult{err: res.Err}
		}
		return schemaResult{}
	}
}
