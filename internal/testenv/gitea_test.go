package testenv

import (
	"testing"

	"code.gitea.io/sdk/gitea"
)

func TestGitea(t *testing.T) {
	s := Gitea(t)
	c := s.Client(t)
	v, _, err := c.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v != GiteaVersion {
		t.Errorf("server version %q, want %q", v, GiteaVersion)
	}
	me, _, err := c.GetMyUserInfo()
	if err != nil {
		t.Fatal(err)
	}
	if me.UserName != s.AdminUser || !me.IsAdmin {
		t.Errorf("token user = %s (admin %v), want admin %s", me.UserName, me.IsAdmin, s.AdminUser)
	}

	repo, number := s.CreateRepoWithPullRequest(t, "fleet")
	pr, _, err := c.GetPullRequest(repo.Owner, repo.Name, int64(number))
	if err != nil {
		t.Fatal(err)
	}
	if pr.State != gitea.StateOpen || pr.Head.Ref != "feature" || pr.Base.Ref != "main" {
		t.Errorf("pull request #%d: state %s, %s -> %s; want open feature -> main", number, pr.State, pr.Head.Ref, pr.Base.Ref)
	}
	files, _, err := c.ListPullRequestFiles(repo.Owner, repo.Name, int64(number), gitea.ListPullRequestFilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Filename != "feature.txt" {
		t.Errorf("pull request files = %+v, want feature.txt", files)
	}
}
