package oracle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/superalign/superalign/internal/atomicfile"
)

// Access is how a person reaches the review queues of an oracle's runs: the
// oracle's base URL and each run's desk token. `w2s oversee` and `w2s
// oracle` write it to a file only its owner may read (WriteAccess), and
// `w2s serve --token-file` reads it (ReadAccess), so that tokens need not
// pass through a command line, where every user of the machine can see them
// in the process list.
type Access struct {
	Oracle string      `json:"oracle"`
	Runs   []AccessRun `json:"runs"`
}

// AccessRun is one run of an Access file.
type AccessRun struct {
	Run       string `json:"run"`
	DeskToken string `json:"desk_token"`
}

// DeskToken returns the desk token of run.
func (a Access) DeskToken(run string) (string, error) {
	var names []string
	for _, r := range a.Runs {
		if r.Run == run {
			return r.DeskToken, nil
		}
		names = append(names, r.Run)
	}
	return "", fmt.Errorf("no run %q (runs: %s)", run, strings.Join(names, ", "))
}

// WriteAccess writes a to path with mode 0600, atomically (a reader sees
// the old file or the new one).
func WriteAccess(path string, a Access) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("oracle: access file: %w", err)
	}
	return atomicfile.WriteSecret(path, append(b, '\n'))
}

// ReadSecretFile reads a file holding secrets, refusing one that users
// other than its owner may read.
func ReadSecretFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s holds tokens but other users may read it (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return os.ReadFile(path)
}

// ReadAccess reads an access file written by WriteAccess.
func ReadAccess(path string) (Access, error) {
	b, err := ReadSecretFile(path)
	if err != nil {
		return Access{}, fmt.Errorf("oracle: access file: %w", err)
	}
	var a Access
	if err := json.Unmarshal(b, &a); err != nil {
		return Access{}, fmt.Errorf("oracle: access file %s: %w", path, err)
	}
	if a.Oracle == "" {
		return Access{}, errors.New("oracle: access file " + path + ": no oracle URL")
	}
	return a, nil
}
