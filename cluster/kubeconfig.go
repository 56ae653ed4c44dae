package cluster

import (
	"context"
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Kubeconfig is an existing cluster named by a kubeconfig file: Start
// returns that file with Context (or its current context) selected and
// the other contexts dropped; Stop leaves the cluster as it is.
type Kubeconfig struct {
	// Path is the kubeconfig file; client-go's default loading rules
	// ($KUBECONFIG, ~/.kube/config) when empty.
	Path    string
	Context string
}

var _ ControlPlane = (*Kubeconfig)(nil)

// Start loads the kubeconfig and checks that the context exists.
func (k *Kubeconfig) Start(ctx context.Context) ([]byte, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if k.Path != "" {
		rules.ExplicitPath = k.Path
	}
	cfg, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if k.Context != "" {
		cfg.CurrentContext = k.Context
	}
	if cfg.CurrentContext == "" {
		return nil, fmt.Errorf("kubeconfig %s: no current context; name one with --context", k.describe())
	}
	if _, ok := cfg.Contexts[cfg.CurrentContext]; !ok {
		return nil, fmt.Errorf("kubeconfig %s: no context %q", k.describe(), cfg.CurrentContext)
	}
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", k.describe(), err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", k.describe(), err)
	}
	return clientcmd.Write(*cfg)
}

// Stop does nothing: the cluster is not fluxgate's.
func (k *Kubeconfig) Stop(context.Context) error { return nil }

func (k *Kubeconfig) describe() string {
	if k.Path == "" {
		return "(default loading rules)"
	}
	return k.Path
}
