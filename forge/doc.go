// Package forge talks to code-hosting services (GitHub, GitHub Enterprise
// Server and Gitea) through the few operations fluxgate needs: one sticky
// comment per pull request, identified by a hidden marker (`fluxgate diff
// --comment`), finding, opening, updating and labelling the bot's pull
// request (`fluxgate image-update`), and web links to files on a branch.
//
// Each service has a driver behind the same small interfaces ([Comments],
// [PullRequests], [Links], all together [Forge]): [NewGitHub] uses
// go-github, [NewGitea] the Gitea SDK. Labels are names on both: the
// drivers create the ones a repository lacks. Drivers retry transient failures (5xx, 429 and
// GitHub's secondary rate limits) with a bounded, context-aware exponential
// backoff; other client errors fail at once. Errors name the repository and
// the operation and never contain the token. The package logs nothing.
package forge
