package wire

import "sync"

// PushCache decodes a room's push once for all the connections of one
// process that receive it. The cluster sends the same bytes to every member
// of a room (one encoding per push), so a process that runs many players,
// as the bots do, would otherwise decode each push once per player: 100
// times over for a room of 100. Readers share it with SharePushes.
//
// Only Events frames go through it. A message it returns is shared by
// every reader that got the same bytes: it must not be modified.
type PushCache struct {
	mu   sync.Mutex
	lim  Limits
	m    map[string]*Events
	ring []string // keys, oldest at next once full
	next int
}

// Bounds of a PushCache (at most 1 MB of frames): the pushes of a room reach
// its members within milliseconds of each other, and the room's next push
// differs (it carries a later index), so only recent frames are reused.
const (
	pushCacheFrames = 64
	pushCacheBytes  = 1 << 20
)

// NewPushCache returns a cache for frames decoded with lim.
func NewPushCache(lim Limits) *PushCache {
	return &PushCache{lim: lim, m: make(map[string]*Events, pushCacheFrames)}
}

// SharePushes has the Reader decode Events frames through c, when
// ReadMessage is called with the limits c was made for.
func (fr *Reader) SharePushes(c *PushCache) { fr.pushes = c }

// decode returns the message of body b (an Events frame), decoded now or
// by another reader before. Errors are not kept: each reader gets its own.
func (c *PushCache) decode(b []byte) (Message, error) {
	c.mu.Lock()
	m, ok := c.m[string(b)]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	msg, err := DecodeMessage(b, c.lim)
	if err != nil {
		return nil, err
	}
	ev, ok := msg.(*Events)
	if !ok || len(b) > pushCacheBytes/pushCacheFrames {
		return msg, nil // a large push is not worth holding
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[string(b)]; ok {
		return old, nil // decoded meanwhile by another reader: share that one
	}
	k := string(b)
	if len(c.ring) < pushCacheFrames {
		c.ring = append(c.ring, k)
	} else {
		old := c.ring[c.next]
		delete(c.m, old)
		c.ring[c.next] = k
		c.next = (c.next + 1) % pushCacheFrames
	}
	c.m[k] = ev
	return ev, nil
}
