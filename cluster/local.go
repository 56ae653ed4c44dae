package cluster

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The binaries a Local control plane runs, looked up in Local.BinDir.
var localBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// KwokNode is the name of the simulated node a Local control plane
// registers; kwok marks it Ready and runs the Pods scheduled onto it.
const KwokNode = "fluxgate-kwok-node"

// DefaultBinDir is where `make tools` and `fluxgate test setup` put the
// control plane's binaries: $FLUXGATE_TOOLS_DIR/controlplane, by default
// under the user's cache directory.
func DefaultBinDir() string {
	if d := os.Getenv("FLUXGATE_TOOLS_DIR"); d != "" {
		return filepath.Join(d, "controlplane")
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "fluxgate-tools", "controlplane")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "fluxgate-tools", "controlplane")
	}
	return filepath.Join(home, ".cache", "fluxgate-tools", "controlplane")
}

// MissingBinaries lists the control plane binaries dir lacks.
func MissingBinaries(dir string) []string {
	var missing []string
	for _, b := range localBinaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	return missing
}

// Local is a control plane started from binaries in a temporary
// directory: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok with one simulated node, on free ports of
// 127.0.0.1, with certificates and an admin token generated for the run.
// Stop (or a failed Start) kills every process and removes the directory.
type Local struct {
	// BinDir holds the binaries; DefaultBinDir when empty.
	BinDir string
	// ReadyTimeout bounds the wait for the API server and the node; two
	// minutes when zero.
	ReadyTimeout time.Duration

	mu    sync.Mutex
	dir   string
	procs []*process
}

var _ ControlPlane = (*Local)(nil)

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Dir is the temporary directory of a started control plane (logs,
// certificates, kubeconfig); empty before Start and after Stop.
func (l *Local) Dir() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dir
}

// Start brings the control plane up and returns an admin kubeconfig for
// it. On failure every process started is killed before it returns.
func (l *Local) Start(ctx context.Context) (kubeconfig []byte, err error) {
	bin := l.BinDir
	if bin == "" {
		bin = DefaultBinDir()
	}
	if missing := MissingBinaries(bin); len(missing) > 0 {
		return nil, fmt.Errorf("local control plane: %s missing in %s (run `make tools` or the test setup command)", strings.Join(missing, ", "), bin)
	}
	timeout := l.ReadyTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	dir, err := os.MkdirTemp("", "fluxgate-controlplane-")
	if err != nil {
		return nil, fmt.Errorf("local control plane: %w", err)
	}
	l.mu.Lock()
	l.dir = dir
	l.mu.Unlock()
	defer func() {
		if err != nil {
			_ = l.Stop(context.Background())
		}
	}()

	ports, err := freePorts(3)
	if err != nil {
		return nil, fmt.Errorf("local control plane: free ports: %w", err)
	}
	etcdPort, peerPort, apiPort := ports[0], ports[1], ports[2]
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)

	pki, err := writePKI(dir)
	if err != nil {
		return nil, fmt.Errorf("local control plane: certificates: %w", err)
	}
	kubeconfig = adminKubeconfig(server, pki.caPEM, pki.token)
	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		return nil, fmt.Errorf("local control plane: %w", err)
	}

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	if err := l.run(bin, "etcd",
		"--name=default", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL, "--unsafe-no-fsync=true",
		"--log-level=warn",
	); err != nil {
		return nil, err
	}
	if err := l.run(bin, "kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+pki.serverCert, "--tls-private-key-file="+pki.serverKey,
		"--token-auth-file="+pki.tokens,
		"--authorization-mode=RBAC",
		// The node-lifecycle controller is off (kwok sends no heartbeats),
		// so nothing would lift the not-ready taint this plugin puts on
		// the simulated node at creation and no Pod would be scheduled.
		"--disable-admission-plugins=TaintNodesByCondition",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+pki.saPub,
		"--service-account-signing-key-file="+pki.saKey,
		"--cert-dir="+filepath.Join(dir, "apiserver-certs"),
	); err != nil {
		return nil, err
	}
	if err := l.waitReady(ctx, server, pki, timeout); err != nil {
		return nil, err
	}
	if err := l.run(bin, "kube-controller-manager",
		"--kubeconfig="+kcPath,
		"--authentication-kubeconfig="+kcPath, "--authorization-kubeconfig="+kcPath,
		"--leader-elect=false", "--secure-port=0",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+pki.saKey,
		"--root-ca-file="+pki.caFile,
		"--cluster-signing-cert-file="+pki.caFile, "--cluster-signing-key-file="+pki.caKey,
		"--controllers=*,-node-ipam-controller,-node-lifecycle-controller",
	); err != nil {
		return nil, err
	}
	if err := l.run(bin, "kube-scheduler",
		"--kubeconfig="+kcPath,
		"--authentication-kubeconfig="+kcPath, "--authorization-kubeconfig="+kcPath,
		"--leader-elect=false", "--secure-port=0",
	); err != nil {
		return nil, err
	}
	stages := filepath.Join(dir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, []byte(kwokStages), 0o600); err != nil {
		return nil, fmt.Errorf("local control plane: %w", err)
	}
	if err := l.run(bin, "kwok",
		"--config="+stages,
		"--kubeconfig="+kcPath,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=10.0.0.1", "--node-name="+KwokNode,
		"--node-port=0", "--server-address=",
	); err != nil {
		return nil, err
	}
	if err := registerNode(ctx, server, pki); err != nil {
		return nil, fmt.Errorf("local control plane: register node %s: %w", KwokNode, err)
	}
	if err := l.waitNamespaceReady(ctx, server, pki, timeout); err != nil {
		return nil, err
	}
	return kubeconfig, nil
}

// Stop kills every process of the control plane and removes its
// directory; it is safe to call more than once and after a failed Start.
func (l *Local) Stop(ctx context.Context) error {
	l.mu.Lock()
	procs, dir := l.procs, l.dir
	l.procs, l.dir = nil, ""
	l.mu.Unlock()
	// In reverse start order: the node agents before the API server, etcd last.
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.cmd.Process != nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		}
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("local control plane: remove %s: %w", dir, err)
		}
	}
	return nil
}

// run starts one binary in its own process group, its output in
// DIR/NAME.log.
func (l *Local) run(bin, name string, args ...string) error {
	l.mu.Lock()
	dir := l.dir
	l.mu.Unlock()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("local control plane: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("local control plane: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return nil
}

// exited reports the first process that has stopped, with its log's tail.
func (l *Local) exited() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.procs {
		select {
		case <-p.done:
			return fmt.Errorf("local control plane: %s exited (%v): %s", p.name, p.err, logTail(p.log))
		default:
		}
	}
	return nil
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

func (l *Local) waitReady(ctx context.Context, server string, pki *pkiFiles, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := pki.httpClient()
	var last string
	for {
		if err := l.exited(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+pki.token)
		resp, err := c.Do(req)
		if err == nil {
			body := make([]byte, 512)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body[:n])
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("local control plane: kube-apiserver not ready after %s: %s", timeout, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local control plane: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitNamespaceReady waits until the controller manager has created the
// default ServiceAccount (without it the API server refuses every Pod of
// the namespace) and fails early when a process of the plane has exited,
// for instance on a flag its version does not know.
func (l *Local) waitNamespaceReady(ctx context.Context, server string, pki *pkiFiles, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := pki.httpClient()
	for {
		if err := l.exited(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server+"/api/v1/namespaces/default/serviceaccounts/default", nil)
		req.Header.Set("Authorization", "Bearer "+pki.token)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("local control plane: the default ServiceAccount was not created after %s (kube-controller-manager: %s)", timeout, logTail(filepath.Join(l.Dir(), "kube-controller-manager.log")))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local control plane: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// registerNode creates the simulated node kwok manages.
func registerNode(ctx context.Context, server string, pki *pkiFiles) error {
	node := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"` + KwokNode + `",
"annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},
"labels":{"kubernetes.io/hostname":"` + KwokNode + `","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","type":"kwok"}},
"status":{"capacity":{"cpu":"32","memory":"256Gi","pods":"1000"},"allocatable":{"cpu":"32","memory":"256Gi","pods":"1000"}}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, server+"/api/v1/nodes", strings.NewReader(node))
	req.Header.Set("Authorization", "Bearer "+pki.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := pki.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b.String())
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

type pkiFiles struct {
	caFile, caKey, serverCert, serverKey, saKey, saPub, tokens string
	caPEM                                                      []byte
	token                                                      string
}

func (p *pkiFiles) httpClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
}

// writePKI writes a CA, the API server's serving certificate for
// 127.0.0.1 and localhost, the service-account key pair and a token file
// with one admin token (group system:masters).
func writePKI(dir string) (*pkiFiles, error) {
	p := &pkiFiles{
		caFile: filepath.Join(dir, "ca.crt"), caKey: filepath.Join(dir, "ca.key"),
		serverCert: filepath.Join(dir, "apiserver.crt"), serverKey: filepath.Join(dir, "apiserver.key"),
		saKey: filepath.Join(dir, "sa.key"), saPub: filepath.Join(dir, "sa.pub"),
		tokens: filepath.Join(dir, "tokens.csv"),
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fluxgate-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	p.token = hex.EncodeToString(tok)
	files := map[string][]byte{
		p.caFile:     p.caPEM,
		p.caKey:      pemKey(caKey),
		p.serverCert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		p.serverKey:  pemKey(srvKey),
		p.saKey:      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		p.saPub:      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		p.tokens:     []byte(p.token + ",fluxgate-admin,fluxgate-admin,\"system:masters\"\n"),
	}
	for path, b := range files {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func pemKey(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(errors.New("marshal a generated P-256 key: " + err.Error()))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func adminKubeconfig(server string, caPEM []byte, token string) []byte {
	return []byte(`apiVersion: v1
kind: Config
clusters:
- name: fluxgate-local
  cluster:
    server: ` + server + `
    certificate-authority-data: ` + base64.StdEncoding.EncodeToString(caPEM) + `
users:
- name: fluxgate-admin
  user:
    token: ` + token + `
contexts:
- name: fluxgate-local
  context:
    cluster: fluxgate-local
    user: fluxgate-admin
current-context: fluxgate-local
`)
}

// kwokStages is how kwok plays the simulated node's life: the node turns
// Ready, a scheduled Pod turns Running and Ready with every container
// running, and a deleted Pod goes away (no kubelet would finish it).
const kwokStages = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: fluxgate-node-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ["True"]
  next:
    statusTemplate: |
      conditions:
      - type: Ready
        status: "True"
        reason: KubeletReady
        message: kwok simulates this node
        lastHeartbeatTime: {{ Now | Quote }}
        lastTransitionTime: {{ Now | Quote }}
      addresses:
      - {type: InternalIP, address: "10.0.0.1"}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: fluxgate-pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.spec.nodeName', operator: Exists}
    - {key: '.status.phase', operator: In, values: [Pending]}
  next:
    statusTemplate: |
      phase: Running
      startTime: {{ Now | Quote }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ Now | Quote }}}
      - {type: PodScheduled, status: "True", lastTransitionTime: {{ Now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ Now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ Now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        started: true
        restartCount: 0
        state: {running: {startedAt: {{ Now | Quote }}}}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: fluxgate-pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: Exists}
  next:
    finalizers: {empty: true}
    delete: true
`
