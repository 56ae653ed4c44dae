// Package action is fluxgate's GitHub Action (action.yml) as data and the
// two steps around the command it runs: NewPlan turns the step's inputs
// (INPUT_* variables) into a command line, one input per flag, refusing an
// input the command does not take; WriteOutputs sets the step outputs
// from the reports the command wrote. Inputs and Outputs list what
// action.yml declares.
//
// Running the command is the caller's (cmd/fluxgate's action command):
// this package only reads and writes through an internal/ghaction Env and
// the report files it names.
package action
