// Package change proposes file edits as one reviewable pull request: the
// flow every Git-side chore of fluxgate shares (image updates today,
// promotions and chart updates next).
//
// A [Publisher] clones the base branch of a repository into memory
// (gitrepo), lets a [Proposal] compute its edits from the base tree, and
// then keeps exactly one bot branch and one pull request per proposal:
//
//   - a bot branch holding any commit whose author is not the proposal's
//     author stops the run with an error: a human commit is never
//     overwritten;
//   - no edits, or a branch that already holds the new contents, pushes
//     nothing; otherwise one commit on top of the base is pushed under a
//     lease (force-with-lease), so a branch that moved meanwhile is left
//     as it is ([gitrepo.ErrStaleBranch]);
//   - the pull request from the bot branch is opened, updated when its
//     title or body differ, or left alone when current.
//
// A re-run with nothing new therefore changes nothing. The package prints
// nothing: progress goes to the function given with [WithProgress].
package change
