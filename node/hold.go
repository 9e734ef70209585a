package node

import (
	"time"

	"github.com/gridlock-game/gridlock/wire"
)

// Taking office again. While a primary renews its office (a backup left
// its view), what its players send waits here instead of bouncing: a
// redirect would send every player of a big room to reconnect at once,
// for an office that is this node's again a few milliseconds later. Once
// it serves, what waited is handled in order; if another node leads
// instead, or the renewal drags on, its players are redirected as before.

const (
	maxHeld      = 4096        // past it a player is redirected
	maxRenewHold = time.Second // a renewal longer than this redirects
)

type heldMsg struct {
	c *clientConn
	m wire.Message
}

// takingOffice reports whether this node is gathering state to lead.
func (s *service) takingOffice() bool {
	n := s.n
	return n.core.Role() == wire.RoleSyncing && n.core.Leader() == n.ID()
}

// renewing reports whether this node, which served, is taking office
// again and has not been at it for long.
func (s *service) renewing() bool {
	if !s.serving || !s.takingOffice() {
		s.renewSince = time.Time{}
		return false
	}
	if s.renewSince.IsZero() {
		s.renewSince = time.Now()
	}
	return time.Since(s.renewSince) < maxRenewHold
}

// hold keeps a message for when the office is taken. It returns false
// when the message must be answered now (not taking office, or full).
func (s *service) hold(c *clientConn, m wire.Message) bool {
	if !s.renewing() || len(s.held) >= maxHeld {
		return false
	}
	s.held = append(s.held, heldMsg{c, m})
	return true
}

// releaseHeld handles what waited once the node serves, or redirects its
// senders once another node leads.
func (s *service) releaseHeld() {
	if len(s.held) == 0 || s.takingOffice() {
		return
	}
	held := s.held
	s.held = nil
	serving := s.n.core.Role() == wire.RolePrimary
	for _, h := range held {
		if s.clients[h.c.id] != h.c {
			continue // gone meanwhile
		}
		if !serving {
			s.redirect(h.c)
			continue
		}
		if _, ok := h.m.(*wire.Hello); ok {
			h.c.helloSent = false // it is read again
		}
		s.message(h.c, h.m)
	}
}
