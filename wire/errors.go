package wire

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DecodeError says what was wrong with a frame. Code is the ErrCode to send
// back in an Error frame: ErrMalformed, ErrTooLarge, ErrUnknownType or
// ErrBadVersion (and ErrUnexpected from DecodeBeacon).
type DecodeError struct {
	Code  ErrCode
	Type  Type   // the message, when its type byte was read
	Field string // the field at fault; empty for the frame as a whole
	Msg   string
}

func (e *DecodeError) Error() string {
	s := "wire: "
	if e.Type != 0 {
		s += e.Type.String() + ": "
	}
	if e.Field != "" {
		s += "field " + e.Field + ": "
	}
	return s + e.Msg
}

// CodeOf returns the ErrCode that describes err for an Error frame, or 0
// when err is not a *DecodeError (an I/O error: nothing to answer).
func CodeOf(err error) ErrCode {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Code
	}
	return 0
}

// ErrorFor returns the Error frame that reports err before the connection is
// closed: err's code (ErrMalformed when err is no *DecodeError) and its text,
// made valid UTF-8 and cut to ClientLimits.MaxText runes so that any peer
// accepts it.
func ErrorFor(err error) *Error {
	code := CodeOf(err)
	if code == 0 {
		code = ErrMalformed
	}
	text := ""
	if err != nil {
		text = strings.ToValidUTF8(err.Error(), "\uFFFD")
	}
	if n := ClientLimits.MaxText; utf8.RuneCountInString(text) > n {
		text = string([]rune(text)[:n-1]) + "…"
	}
	return &Error{Code: code, Text: text}
}

// CheckVersion refuses a protocol version other than Version with a
// *DecodeError of code ErrBadVersion.
func CheckVersion(v uint16) error {
	if v == Version {
		return nil
	}
	return &DecodeError{Code: ErrBadVersion, Field: "version",
		Msg: fmt.Sprintf("protocol version %d, want %d", v, Version)}
}

var typeNames = [...]string{
	THello:       "hello",
	TWelcome:     "welcome",
	TCommand:     "command",
	TAck:         "ack",
	TEvents:      "events",
	TClusterView: "cluster view",
	TRedirect:    "redirect",
	TPing:        "ping",
	TPong:        "pong",
	TError:       "error",
	TQuery:       "query",
	TQueryReply:  "query reply",
	TRoomState:   "room state",
	TStatus:      "status",
	TBeacon:      "beacon",
	TElection:    "election",
	TElectionOK:  "election ok",
	TCoordinator: "coordinator",
	TStateReply:  "state reply",
	TFetch:       "fetch",
	TAppend:      "append",
	TAppendAck:   "append ack",
	TSnapshot:    "snapshot",
	TLeave:       "leave",
	TRolledBack:  "rolled back",
	TPeerHello:   "peer hello",
	TPeerAuth:    "peer auth",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

func (c ErrCode) String() string {
	switch c {
	case ErrMalformed:
		return "malformed"
	case ErrTooLarge:
		return "too large"
	case ErrBadVersion:
		return "bad version"
	case ErrUnexpected:
		return "unexpected"
	case ErrRateLimited:
		return "rate limited"
	case ErrAuth:
		return "authentication failed"
	case ErrUnknownType:
		return "unknown type"
	case ErrOverloaded:
		return "overloaded"
	case ErrSession:
		return "session refused"
	case ErrShutdown:
		return "shutting down"
	case ErrSettings:
		return "settings differ"
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}
