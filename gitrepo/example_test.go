package gitrepo_test

import (
	"fmt"

	"github.com/fluxgate/fluxgate/gitrepo"
)

func ExampleNormalizeURL() {
	for _, u := range []string{
		"ssh://git@github.com/Org/Repo.git",
		"git@github.com:Org/Repo",
		"https://x-access-token:TOKEN@GitHub.com/Org/Repo.git/",
	} {
		fmt.Println(gitrepo.NormalizeURL(u))
	}
	// Output:
	// github.com/Org/Repo
	// github.com/Org/Repo
	// github.com/Org/Repo
}

func ExampleSameRepository() {
	fmt.Println(gitrepo.SameRepository("git@github.com:Org/Repo", "https://github.com/Org/Repo.git"))
	fmt.Println(gitrepo.SameRepository("git@github.com:Org/Repo", "https://github.com/Org/Other"))
	// Output:
	// true
	// false
}
