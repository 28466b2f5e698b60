package wandb

import (
	"errors"
	"io"
)

// Reading a 2xx answer's body as a stream: the decoders read it through a
// bodyReader, which enforces Config.MaxResponseBytes and keeps the first
// bytes for messages, so no answer is ever held whole for its own sake.

// headBytes is how much of a body a bodyReader keeps for messages (an
// excerpt shows 200 characters of it, after HTML is reduced to its text).
const headBytes = 16 << 10

// drainBytes is how much of a body left unread after decoding is read, so
// that its connection can be reused; past it the connection is closed.
const drainBytes = 64 << 10

// errTooLarge is what a bodyReader returns once the body is longer than
// its limit.
var errTooLarge = errors.New("the response is larger than the limit")

// bodyReader reads an answer's body for a decoder: at most limit bytes
// (reading past them fails with errTooLarge), keeping the first headBytes.
// It records the first read error, so that the attempt can tell a failed
// read (a transport error or the limit: retried or reported as such) from
// a body that does not decode.
type bodyReader struct {
	r        io.Reader
	left     int64 // bytes still allowed
	head     []byte
	err      error // the first error other than io.EOF
	tooLarge bool
}

func newBodyReader(r io.Reader, limit int64) *bodyReader {
	return &bodyReader{r: r, left: limit}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := io.ReadFull(b.r, one[:])
		switch {
		case n > 0:
			b.tooLarge, b.err = true, errTooLarge
			return 0, b.err
		case err == io.EOF:
			return 0, io.EOF
		}
		b.err = err
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if keep := min(n, headBytes-len(b.head)); keep > 0 {
		b.head = append(b.head, p[:keep]...)
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// fullHead reads on until the head is complete or the body ends, and
// returns it: a decoder that found no JSON has read only a little, and an
// HTML page's text may be further on.
func (b *bodyReader) fullHead() []byte {
	var buf [4096]byte
	for len(b.head) < headBytes && b.err == nil {
		if _, err := b.Read(buf[:min(len(buf), headBytes-len(b.head))]); err != nil {
			break
		}
	}
	return b.head
}

// drain reads what a decoder left of the body, up to max bytes, so that
// the connection can carry the next request.
func (b *bodyReader) drain(max int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, max))
}
