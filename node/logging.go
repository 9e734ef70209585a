package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// nodeHandler names the node in every record once it has an id. The id
// can change (another node took it) while other goroutines log.
type nodeHandler struct {
	slog.Handler
	n *Node
}

func (h nodeHandler) Handle(ctx context.Context, r slog.Record) error {
	id := h.n.ID()
	if id == 0 {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(slog.String("node", fmt.Sprintf("n%d", id)))
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h nodeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return nodeHandler{h.Handler.WithAttrs(as), h.n}
}

func (h nodeHandler) WithGroup(name string) slog.Handler {
	return nodeHandler{h.Handler.WithGroup(name), h.n}
}

// logLimiter keeps floods of bad input from flooding the log: per kind, at
// most logBurst lines every logWindow, then a count of those left out.
type logLimiter struct {
	mu    sync.Mutex
	kinds map[string]*logKind
}

type logKind struct {
	start   time.Time
	n       int
	dropped int
}

const (
	logBurst  = 10
	logWindow = 10 * time.Second
)

func (l *logLimiter) warn(log *slog.Logger, kind, msg string, args ...any) {
	l.log(log, slog.LevelWarn, kind, msg, args...)
}

func (l *logLimiter) log(log *slog.Logger, level slog.Level, kind, msg string, args ...any) {
	l.mu.Lock()
	if l.kinds == nil {
		l.kinds = map[string]*logKind{}
	}
	k := l.kinds[kind]
	if k == nil {
		k = &logKind{}
		l.kinds[kind] = k
	}
	now := time.Now()
	if now.Sub(k.start) > logWindow {
		if k.dropped > 0 {
			args = append(args, "not_logged_before", k.dropped)
		}
		k.start, k.n, k.dropped = now, 0, 0
	}
	k.n++
	if k.n > logBurst {
		k.dropped++
		l.mu.Unlock()
		return
	}
	if k.n == logBurst {
		args = append(args, "note", fmt.Sprintf("more of these are only counted for %v", logWindow))
	}
	l.mu.Unlock()
	log.Log(context.Background(), level, msg, args...)
}
