package imageupdate_test

import (
	"fmt"
	"testing/fstest"

	"github.com/fluxgate/fluxgate/imageupdate"
)

func ExamplePlanSetters() {
	fsys := fstest.MapFS{
		"apps/podinfo/release.yaml": {Data: []byte(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  values:
    image:
      repository: ghcr.io/stefanprodan/podinfo # {"$imagepolicy": "flux-system:podinfo:name"}
      tag: 6.5.0 # {"$imagepolicy": "flux-system:podinfo:tag"}
`)},
		"apps/web/deployment.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: ghcr.io/org/web:1.0.0 # {"$imagepolicy": "flux-system:web"}
`)},
	}
	policies := map[string]imageupdate.ImageRef{
		"flux-system:podinfo": {Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.7.1"},
	}
	plan, err := imageupdate.PlanSetters(fsys, "apps", policies)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range plan.Edits {
		for _, c := range e.Changes {
			fmt.Printf("%s:%d %s/%s %s: %s -> %s\n", c.File, c.Line, c.Object.Kind, c.Object.Name, c.Setter, c.Old, c.New)
		}
		fmt.Printf("%s", e.After)
	}
	for _, p := range plan.Problems {
		fmt.Printf("%s:%d: %s\n", p.Path, p.Line, p.Message)
	}
	// Output:
	// apps/podinfo/release.yaml:10 HelmRelease/podinfo flux-system:podinfo:tag: 6.5.0 -> 6.7.1
	// apiVersion: helm.toolkit.fluxcd.io/v2
	// kind: HelmRelease
	// metadata:
	//   name: podinfo
	//   namespace: apps
	// spec:
	//   values:
	//     image:
	//       repository: ghcr.io/stefanprodan/podinfo # {"$imagepolicy": "flux-system:podinfo:name"}
	//       tag: 6.7.1 # {"$imagepolicy": "flux-system:podinfo:tag"}
	// apps/web/deployment.yaml:10: image policy marker "flux-system:web" names policy flux-system:web, which is not known
}
