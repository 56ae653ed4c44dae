package sops_test

import (
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/render/sops"
)

// FuzzDetect: the SOPS checks that run without a key (detection, the
// metadata line, the MAC structure check) take any file without a panic,
// and the metadata line is a line of the file.
func FuzzDetect(f *testing.F) {
	f.Add("secret.yaml", "apiVersion: v1\nkind: Secret\nstringData:\n  a: ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:DD,iv:EE,tag:FF,type:str]\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  version: 3.8.1\n")
	f.Add("secret.yaml", "sops:\n  age: [{recipient: x, enc: y}]\n")
	f.Add("secret.json", `{"data": "ENC[AES256_GCM,data:AA,iv:BB,tag:CC,type:str]", "sops": {"mac": "", "version": "3.8.1"}}`)
	f.Add("app.env", "A=ENC[AES256_GCM,data:AA,iv:BB,tag:CC,type:str]\nsops_mac=\nsops_version=3.8.1\n")
	f.Add("app.ini", "[sops]\nmac=\n")
	f.Fuzz(func(t *testing.T, name, data string) {
		if sops.IsEncrypted(name, []byte(data)) {
			_ = sops.MACMissing(name, []byte(data))
		}
		if l := sops.MetadataLine(name, []byte(data)); l < 1 || l > strings.Count(data, "\n")+1 {
			t.Fatalf("metadata line %d of a %d-line file", l, strings.Count(data, "\n")+1)
		}
	})
}
