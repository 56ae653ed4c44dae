package forge

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fixture is what the shared contract needs besides the driver under test:
// ways to arrange and inspect the repository that do not go through the
// driver. Branches and pull requests are made from branch main.
type fixture struct {
	forge Forge
	// newBranch creates branch name from branch from, one commit ahead.
	newBranch func(t testing.TB, name, from string)
	// openPull opens a pull request from head into base and returns its number.
	openPull func(t testing.TB, head, base, title string) int
	// addComment posts a comment as someone else would.
	addComment func(t testing.TB, pr int, body string)
	// comments returns the bodies of pull request pr's comments, oldest first.
	comments func(t testing.TB, pr int) []string
	// pageSize is how many comments the service serves per page.
	pageSize int
	// createLabel creates label name with color ("0075ca") in the
	// repository, as someone else would.
	createLabel func(t testing.TB, name, color string)
	// repoLabels returns the repository's labels as "name #color", the
	// colour in lower case without its '#'.
	repoLabels func(t testing.TB) []string
	// pullLabels returns the sorted names of pull request pr's labels.
	pullLabels func(t testing.TB, pr int) []string
}

// labelCount counts the labels named name in labels ("name #color").
func labelCount(labels []string, name string) int {
	n := 0
	for _, l := range labels {
		if strings.HasPrefix(l, name+" #") {
			n++
		}
	}
	return n
}

// pullWithBranch opens a pull request from a new branch into main.
func (f fixture) pullWithBranch(t *testing.T, head string) int {
	t.Helper()
	f.newBranch(t, head, "main")
	return f.openPull(t, head, "main", "PR from "+head)
}

// runContract checks the behaviour every driver must share. Each case uses
// branches of its own, so all run against one repository.
func runContract(t *testing.T, f fixture) {
	ctx := context.Background()

	t.Run("upsert creates once then edits in place", func(t *testing.T) {
		pr := f.pullWithBranch(t, "contract-upsert")
		marker := "<!-- fluxgate:diff:prod -->"
		body1 := marker + "\n## fluxgate diff\n\n2 objects changed\n"
		body2 := marker + "\n## fluxgate diff\n\n3 objects changed\n"

		first, err := f.forge.UpsertComment(ctx, pr, marker, body1)
		if err != nil {
			t.Fatal(err)
		}
		if first.Outcome != Created || first.ID == 0 || first.URL == "" {
			t.Fatalf("first upsert = %+v, want created with ID and URL", first)
		}
		same, err := f.forge.UpsertComment(ctx, pr, marker, body1)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Comment{ID: first.ID, URL: first.URL, Outcome: Unchanged}, same); diff != "" {
			t.Errorf("upsert with the same body (-want +got):\n%s", diff)
		}
		edited, err := f.forge.UpsertComment(ctx, pr, marker, body2)
		if err != nil {
			t.Fatal(err)
		}
		if edited.Outcome != Updated || edited.ID != first.ID {
			t.Errorf("upsert with a new body = %+v, want the same comment %d updated", edited, first.ID)
		}
		if diff := cmp.Diff([]string{body2}, f.comments(t, pr)); diff != "" {
			t.Errorf("comments (-want +got):\n%s", diff)
		}
	})

	t.Run("upsert finds its comment among many and leaves others alone", func(t *testing.T) {
		pr := f.pullWithBranch(t, "contract-many")
		marker := "<!-- fluxgate:diff:many -->"
		var want []string
		// Enough comments before and after ours that, where the service
		// pages, ours is neither on the first page nor on the last.
		for i := range f.pageSize + 1 {
			body := "looks good " + strings.Repeat("!", i+1)
			f.addComment(t, pr, body)
			want = append(want, body)
		}
		c, err := f.forge.UpsertComment(ctx, pr, marker, marker+" v1")
		if err != nil {
			t.Fatal(err)
		}
		if c.Outcome != Created {
			t.Fatalf("upsert = %+v, want created", c)
		}
		mine := len(want)
		want = append(want, marker+" v1")
		for i := range f.pageSize + 1 {
			body := "another review " + strings.Repeat("?", i+1)
			f.addComment(t, pr, body)
			want = append(want, body)
		}
		again, err := f.forge.UpsertComment(ctx, pr, marker, marker+" v2")
		if err != nil {
			t.Fatal(err)
		}
		if again.Outcome != Updated || again.ID != c.ID {
			t.Errorf("second upsert = %+v, want comment %d updated", again, c.ID)
		}
		want[mine] = marker + " v2"
		if diff := cmp.Diff(want, f.comments(t, pr)); diff != "" {
			t.Errorf("comments (-want +got):\n%s", diff)
		}
	})

	t.Run("two markers keep two comments", func(t *testing.T) {
		pr := f.pullWithBranch(t, "contract-two")
		a, b := "<!-- fluxgate:diff:staging -->", "<!-- fluxgate:diff:production -->"
		for _, step := range []struct {
			marker, body string
			want         Outcome
		}{
			{a, a + " staging 1", Created},
			{b, b + " production 1", Created},
			{a, a + " staging 2", Updated},
			{b, b + " production 1", Unchanged},
		} {
			c, err := f.forge.UpsertComment(ctx, pr, step.marker, step.body)
			if err != nil {
				t.Fatal(err)
			}
			if c.Outcome != step.want {
				t.Errorf("upsert %q: outcome %s, want %s", step.body, c.Outcome, step.want)
			}
		}
		want := []string{a + " staging 2", b + " production 1"}
		if diff := cmp.Diff(want, f.comments(t, pr)); diff != "" {
			t.Errorf("comments (-want +got):\n%s", diff)
		}
	})

	t.Run("upsert refuses a body without its marker", func(t *testing.T) {
		pr := f.pullWithBranch(t, "contract-nomarker")
		_, err := f.forge.UpsertComment(ctx, pr, "<!-- fluxgate:x -->", "no marker here")
		if err == nil || !strings.Contains(err.Error(), "marker") {
			t.Fatalf("err = %v, want an error about the marker", err)
		}
		if got := f.comments(t, pr); len(got) != 0 {
			t.Errorf("comments = %q, want none", got)
		}
	})

	t.Run("find pull request filters by head and base", func(t *testing.T) {
		f.newBranch(t, "find-release", "main")
		f.newBranch(t, "find-one", "main")
		f.newBranch(t, "find-two", "main")
		oneMain := f.openPull(t, "find-one", "main", "one into main")
		oneRelease := f.openPull(t, "find-one", "find-release", "one into release")
		twoMain := f.openPull(t, "find-two", "main", "two into main")
		for _, tc := range []struct {
			head, base string
			want       int // 0: none
		}{
			{"find-one", "main", oneMain},
			{"find-one", "find-release", oneRelease},
			{"find-two", "main", twoMain},
			{"find-two", "find-release", 0},
			{"find-none", "main", 0},
		} {
			got, err := f.forge.FindPullRequest(ctx, tc.head, tc.base)
			if err != nil {
				t.Fatalf("find %s -> %s: %v", tc.head, tc.base, err)
			}
			gotNumber := 0
			if got != nil {
				gotNumber = got.Number
				if got.Head != tc.head || got.Base != tc.base || got.URL == "" {
					t.Errorf("find %s -> %s = %+v", tc.head, tc.base, got)
				}
			}
			if gotNumber != tc.want {
				t.Errorf("find %s -> %s = #%d, want #%d", tc.head, tc.base, gotNumber, tc.want)
			}
		}
	})

	t.Run("create then update a pull request", func(t *testing.T) {
		head := "fluxgate/image-update"
		f.newBranch(t, head, "main")
		if got, err := f.forge.FindPullRequest(ctx, head, "main"); err != nil || got != nil {
			t.Fatalf("before creating: find = %+v, %v; want none", got, err)
		}
		created, err := f.forge.CreatePullRequest(ctx, NewPullRequest{
			Head: head, Base: "main", Title: "Update images", Body: "podinfo 6.5.0 -> 6.5.1",
		})
		if err != nil {
			t.Fatal(err)
		}
		want := &PullRequest{Number: created.Number, URL: created.URL,
			Title: "Update images", Body: "podinfo 6.5.0 -> 6.5.1", Head: head, Base: "main"}
		if diff := cmp.Diff(want, created); diff != "" || created.Number == 0 || created.URL == "" {
			t.Errorf("created (-want +got):\n%s", diff)
		}
		found, err := f.forge.FindPullRequest(ctx, head, "main")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, found); diff != "" {
			t.Errorf("found (-want +got):\n%s", diff)
		}

		updated, err := f.forge.UpdatePullRequest(ctx, created.Number, "Update images (2)", "podinfo 6.5.0 -> 6.5.2")
		if err != nil {
			t.Fatal(err)
		}
		want.Title, want.Body = "Update images (2)", "podinfo 6.5.0 -> 6.5.2"
		if diff := cmp.Diff(want, updated); diff != "" {
			t.Errorf("updated (-want +got):\n%s", diff)
		}
		found, err = f.forge.FindPullRequest(ctx, head, "main")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, found); diff != "" {
			t.Errorf("found after update (-want +got):\n%s", diff)
		}

		// A second pull request for the same branches is the service's
		// error, reported, not retried into a duplicate.
		if _, err := f.forge.CreatePullRequest(ctx, NewPullRequest{Head: head, Base: "main", Title: "again"}); err == nil {
			t.Error("creating a duplicate pull request succeeded")
		}
	})

	t.Run("create with labels", func(t *testing.T) {
		head := "contract-labels"
		f.newBranch(t, head, "main")
		f.createLabel(t, "contract-existing", "0075ca")
		created, err := f.forge.CreatePullRequest(ctx, NewPullRequest{
			Head: head, Base: "main", Title: "Update images", Body: "podinfo",
			Labels: []string{"contract-new", "contract-existing", "contract-new"},
		})
		if err != nil {
			t.Fatal(err)
		}
		wantLabels := []string{"contract-existing", "contract-new"}
		if diff := cmp.Diff(wantLabels, created.Labels); diff != "" {
			t.Errorf("created labels (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantLabels, f.pullLabels(t, created.Number)); diff != "" {
			t.Errorf("labels on the service (-want +got):\n%s", diff)
		}
		found, err := f.forge.FindPullRequest(ctx, head, "main")
		if err != nil {
			t.Fatal(err)
		}
		if found == nil || found.Number != created.Number {
			t.Fatalf("found %+v, want #%d", found, created.Number)
		}
		if diff := cmp.Diff(wantLabels, found.Labels); diff != "" {
			t.Errorf("found labels (-want +got):\n%s", diff)
		}
		// The missing label was created once, in the neutral colour; the
		// existing one was used as it is.
		repo := f.repoLabels(t)
		for _, want := range []string{"contract-existing #0075ca", "contract-new #ededed"} {
			name, _, _ := strings.Cut(want, " #")
			if labelCount(repo, name) != 1 || !slices.Contains(repo, want) {
				t.Errorf("repository labels %q, want one %q", repo, want)
			}
		}

		// Updating the title and body leaves the labels alone.
		updated, err := f.forge.UpdatePullRequest(ctx, created.Number, "Update images (2)", "podinfo 2")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantLabels, updated.Labels); diff != "" {
			t.Errorf("updated labels (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantLabels, f.pullLabels(t, created.Number)); diff != "" {
			t.Errorf("labels on the service after update (-want +got):\n%s", diff)
		}
	})

	t.Run("add labels is idempotent", func(t *testing.T) {
		pr := f.pullWithBranch(t, "contract-addlabels")
		for _, labels := range [][]string{
			{"contract-deps"},
			{"contract-deps"},
			{"contract-automerge", "contract-deps"},
			nil,
		} {
			if err := f.forge.AddLabels(ctx, pr, labels); err != nil {
				t.Fatalf("add %q: %v", labels, err)
			}
		}
		if diff := cmp.Diff([]string{"contract-automerge", "contract-deps"}, f.pullLabels(t, pr)); diff != "" {
			t.Errorf("labels (-want +got):\n%s", diff)
		}
		repo := f.repoLabels(t)
		for _, name := range []string{"contract-deps", "contract-automerge"} {
			if n := labelCount(repo, name); n != 1 {
				t.Errorf("repository has %d labels %q, want 1: %q", n, name, repo)
			}
		}
		found, err := f.forge.FindPullRequest(ctx, "contract-addlabels", "main")
		if err != nil || found == nil {
			t.Fatalf("find = %+v, %v", found, err)
		}
		if diff := cmp.Diff([]string{"contract-automerge", "contract-deps"}, found.Labels); diff != "" {
			t.Errorf("found labels (-want +got):\n%s", diff)
		}
	})

	t.Run("add labels refuses a blank name and a missing pull request", func(t *testing.T) {
		pr := f.pullWithBranch(t, "contract-badlabels")
		if err := f.forge.AddLabels(ctx, pr, []string{"ok", " "}); err == nil || !strings.Contains(err.Error(), "empty label name") {
			t.Errorf("blank label: err = %v, want an error about the empty name", err)
		}
		if got := f.pullLabels(t, pr); len(got) != 0 {
			t.Errorf("labels = %q, want none", got)
		}
		if err := f.forge.AddLabels(ctx, 9999, []string{"contract-missing"}); err == nil || !strings.Contains(err.Error(), "#9999") {
			t.Errorf("missing pull request: err = %v, want an error naming #9999", err)
		}
	})

	t.Run("update of a missing pull request fails", func(t *testing.T) {
		_, err := f.forge.UpdatePullRequest(ctx, 9999, "title", "body")
		if err == nil || !strings.Contains(err.Error(), "#9999") {
			t.Fatalf("err = %v, want an error naming #9999", err)
		}
	})
}
