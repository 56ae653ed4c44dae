package fleet

import (
	"fmt"
	"io"
	"io/fs"
)

// ReadRegularFile reads name from fsys, following links, and refuses
// anything but a regular file of at most DefaultMaxFileSize bytes: a named
// pipe or a device a pull request puts in place of a file would otherwise
// block the read or never end it. A missing file is an fs.ErrNotExist error;
// the caller names the file in what it reports.
func ReadRegularFile(fsys fs.FS, name string) ([]byte, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", describeMode(info.Mode()))
	}
	if info.Size() > DefaultMaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d read", info.Size(), DefaultMaxFileSize)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, DefaultMaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > DefaultMaxFileSize {
		return nil, fmt.Errorf("more than the %d bytes read", DefaultMaxFileSize)
	}
	return data, nil
}

// describeMode names the kind of a file that is not a regular one.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}
