package sshd

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gridlock-game/gridlock/client"
	"github.com/gridlock-game/gridlock/game"
)

// The files the server keeps in its key directory.
const (
	HostKeyFile = "ssh_host_ed25519_key"
	secretFile  = "ssh_token_secret"
)

// hostKey loads the host key kept in dir, or makes one and keeps it.
func hostKey(dir string) (gossh.Signer, error) {
	path := filepath.Join(dir, HostKeyFile)
	b, err := loadOrCreate(path, func() ([]byte, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		block, err := gossh.MarshalPrivateKey(priv, "gridlock host key")
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(block), nil
	})
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w (remove it to make a new one; players are then warned that the key changed)", path, err)
	}
	return signer, nil
}

// tokenSecret is the key the session tokens are derived with: from the
// cluster secret when there is one (every server of the cluster then gives
// a player's key the same session), else a random one kept in dir.
func tokenSecret(dir string, clusterSecret []byte) ([]byte, error) {
	if len(clusterSecret) > 0 {
		mac := hmac.New(sha256.New, clusterSecret)
		mac.Write([]byte("gridlock ssh session tokens"))
		return mac.Sum(nil), nil
	}
	path := filepath.Join(dir, secretFile)
	b, err := loadOrCreate(path, func() ([]byte, error) {
		var k [32]byte
		if _, err := rand.Read(k[:]); err != nil {
			return nil, err
		}
		return []byte(hex.EncodeToString(k[:]) + "\n"), nil
	})
	if err != nil {
		return nil, fmt.Errorf("session secret: %w", err)
	}
	k, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("session secret %s is damaged (remove it to make a new one; players then start new sessions)", path)
	}
	return k, nil
}

// loadOrCreate reads path, or writes what mk makes there first (0600, in a
// directory made if need be). Two processes that make it at once agree on
// the first one written.
func loadOrCreate(path string, mk func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	data, err := mk()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".gridlock-ssh-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// A link, not a rename: it fails if another process got there first.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return os.ReadFile(path)
		}
		return nil, err
	}
	return data, nil
}

// sessionToken is the token of a player who logs in with key as name: the
// same key and name give the same token (names compared as the game
// compares them), so the player resumes their session. Without a key
// (keyboard-interactive) there is nothing to recognise: a fresh token.
func sessionToken(secret []byte, key gossh.PublicKey, name string) string {
	if key == nil {
		return client.NewToken()
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("session\x00"))
	mac.Write(key.Marshal())
	mac.Write([]byte{0})
	mac.Write([]byte(game.NameKey(name)))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// authorizedKeys is an authorized_keys file, read again when it changes, so
// that keys can be added without a restart.
type authorizedKeys struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	mod  time.Time
	size int64
	keys map[string]bool // key.Marshal()
}

func loadAuthorizedKeys(path string, log *slog.Logger) (*authorizedKeys, error) {
	a := &authorizedKeys{path: path, log: log}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	keys, err := parseAuthorizedKeys(path)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys in it: nobody could play", path)
	}
	a.keys, a.mod, a.size = keys, st.ModTime(), st.Size()
	return a, nil
}

// allows reports whether key is in the file. A file that changed is read
// again; if it cannot be, the keys read last stay in force.
func (a *authorizedKeys) allows(key gossh.PublicKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st, err := os.Stat(a.path); err == nil && (!st.ModTime().Equal(a.mod) || st.Size() != a.size) {
		keys, err := parseAuthorizedKeys(a.path)
		if err != nil {
			a.log.Warn("authorized keys not read again: the keys read before stay in force", "error", err)
		} else {
			a.log.Info("authorized keys read again", "path", a.path, "keys", len(keys))
			a.keys = keys
		}
		a.mod, a.size = st.ModTime(), st.Size()
	}
	return a.keys[string(key.Marshal())]
}

// parseAuthorizedKeys reads the keys of an authorized_keys file; a line
// that is not a key is an error that names it.
func parseAuthorizedKeys(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, _, _, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not a public key: %v", path, n, err)
		}
		keys[string(key.Marshal())] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}
