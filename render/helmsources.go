package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxgate/fluxgate/render/helm"
)

// sourceAccess reads how to reach the chart source obj (HelmRepository or
// OCIRepository), its Secrets looked up like valuesFrom (SOPS-decrypted
// when a key is given): see helm.SourceAccess.
func (r *renderer) sourceAccess(j job, kind string, obj map[string]any) (*helm.Access, error) {
	return helm.SourceAccess(kind, obj, func(namespace, name string) (map[string]string, string, bool) {
		return r.secretData(j, namespace, name)
	})
}

// secretData finds the Secret namespace/name a chart source refers to, as
// valuesFrom does, decrypting a SOPS-encrypted one when a key is given.
// ok is false when the Secret is not in the repository or its values are
// not readable (encrypted without a key, or with another key).
func (r *renderer) secretData(j job, namespace, name string) (data map[string]string, typ string, ok bool) {
	obj := r.lookupAny(j, "Secret", namespace, name)
	if obj == nil {
		return nil, "", false
	}
	if r.opts.Decryptor != nil && isPlaceholder(obj) {
		for _, d := range r.repo.Lookup("Secret", namespace, name) {
			if _, enc := d.Object["sops"]; enc {
				obj = d.Object
				break
			}
		}
	}
	if _, enc := obj["sops"]; enc {
		if r.opts.Decryptor == nil {
			return nil, "", false
		}
		plain, err := r.decryptObject(obj)
		if err != nil {
			return nil, "", false
		}
		obj = plain
	}
	data = dataOf("Secret", obj)
	for _, v := range data {
		if v == EncryptedPlaceholder {
			return nil, "", false
		}
	}
	typ, _ = obj["type"].(string)
	return data, typ, true
}

// helmRepositoryFor finds a HelmRepository of the namespace whose URL is
// nURL (normalised), in the unit's ancestors' output or the repository.
func (r *renderer) helmRepositoryFor(j job, namespace, nURL string) map[string]any {
	match := func(obj map[string]any) bool {
		o := unstructured.Unstructured{Object: obj}
		if o.GetKind() != "HelmRepository" || o.GetNamespace() != namespace {
			return false
		}
		u, _, _ := unstructured.NestedString(obj, "spec", "url")
		n, err := helm.NormalizeRepoURL(u)
		return err == nil && n == nURL
	}
	for p := j.parent; p != nil; p = p.parent {
		for _, o := range p.Objects {
			if _, kind := o.GVK(); kind != "HelmRepository" {
				continue
			}
			if obj := o.Value(); match(obj) {
				return obj
			}
		}
	}
	for _, fo := range r.repo.FluxKind("HelmRepository") {
		if match(fo.Doc.Object) {
			return fo.Doc.Object
		}
	}
	return nil
}
