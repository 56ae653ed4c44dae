// Package yamlsplice edits scalars of a YAML file in its original bytes:
// it locates a decoded scalar's text, writes a new value in the scalar's
// style, and verifies that the edited file decodes to the same documents
// but for the values meant to change. Comments, key order, indentation
// and everything else in the file stay byte for byte.
package yamlsplice
