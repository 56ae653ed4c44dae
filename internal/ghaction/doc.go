// Package ghaction implements the GitHub Actions runtime protocol that a
// step uses to talk to the runner, as GitHub documents it ("Workflow
// commands for GitHub Actions", "Metadata syntax for GitHub Actions"):
//
//   - inputs, which the runner passes as INPUT_<NAME> environment variables;
//   - environment files: outputs ($GITHUB_OUTPUT), environment variables
//     for later steps ($GITHUB_ENV) and the Markdown job summary
//     ($GITHUB_STEP_SUMMARY), written in the multi-line delimiter format;
//   - workflow commands on standard output: annotations (error, warning,
//     notice), add-mask, group and endgroup, debug;
//   - the event payload ($GITHUB_EVENT_PATH) and the default variables
//     (GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_SERVER_URL, GITHUB_API_URL,
//     GITHUB_ACTIONS).
//
// Everything goes through an Env, which holds the getenv function and the
// standard output writer, so that tests never touch the process
// environment. The package imports nothing of the project.
package ghaction
