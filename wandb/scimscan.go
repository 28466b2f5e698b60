package wandb

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// SCIM lists, decoded as they stream. A page of W&B's SCIM users holds up
// to 9,999 users, about 4 MB; encoding/json, which validates it whole
// before reflecting over each field (and twice more for each emails
// object, through scimEmails.UnmarshalJSON), took most of
// UsersWithStatus's time and allocations (BENCHMARKS.md). So a list is
// read with the jsonScanner (see jsonscan.go for why there is one) into
// exactly what encoding/json gives: keys matched case-insensitively, null
// leaving a field as it is (or a pointer nil), the last of repeated keys
// winning. FuzzSCIMList checks it against encoding/json. Resources of
// other types than scimUser are decoded by encoding/json, one at a time.

// scimScanned is a SCIM resource that decodes itself from the stream.
type scimScanned interface {
	scanFrom(s *jsonScanner) error
}

// decodeFrom implements streamedData: scimSend streams a list through it.
func (l *scimList[T]) decodeFrom(s *jsonScanner) error {
	*l = scimList[T]{}
	return s.object("ListResponse", func(key []byte) error {
		switch {
		case keyIs(key, "Resources"):
			l.Resources = l.Resources[:0]
			if null, err := s.null(); null || err != nil {
				l.Resources = nil
				return err
			}
			return s.array("Resources", func() error {
				// As encoding/json does: into the element already there
				// (a repeated key reuses the slice), else a zero one.
				i := len(l.Resources)
				if i < cap(l.Resources) {
					l.Resources = l.Resources[:i+1]
				} else {
					var zero T
					l.Resources = append(l.Resources, zero)
				}
				v := &l.Resources[i]
				if sc, ok := any(v).(scimScanned); ok {
					return sc.scanFrom(s)
				}
				raw, err := s.raw()
				if err != nil {
					return err
				}
				return json.Unmarshal(raw, v)
			})
		case keyIs(key, "totalResults"):
			return scanInt(s, &l.TotalResults)
		case keyIs(key, "startIndex"):
			return scanInt(s, &l.StartIndex)
		}
		return s.skip()
	})
}

// scanFrom implements scimScanned.
func (su *scimUser) scanFrom(s *jsonScanner) error {
	const where = "Resources[]"
	return s.object(where, func(key []byte) error {
		switch {
		case keyIs(key, "id"):
			return scanString(s, &su.ID)
		case keyIs(key, "userName"):
			return scanString(s, &su.UserName)
		case keyIs(key, "displayName"):
			return scanString(s, &su.DisplayName)
		case keyIs(key, "active"):
			v, null, err := s.boolean(where + ".active")
			su.Active = nil
			if !null && err == nil {
				su.Active = &v
			}
			return err
		case keyIs(key, "emails"):
			return su.Emails.scanFrom(s)
		case keyIs(key, "organizationRole"):
			return scanOptString(s, &su.OrganizationRole)
		case keyIs(key, "lastActiveAt"):
			return scanOptString(s, &su.LastActiveAt)
		case keyIs(key, "daysActive"):
			raw, err := s.raw()
			switch {
			case err != nil:
				return err
			case string(raw) == "null":
				su.DaysActive = nil
				return nil
			}
			n, err := strconv.Atoi(string(raw)) // raw is JSON: a number, or not an int
			if err != nil {
				return &json.UnmarshalTypeError{Value: "number " + string(raw), Field: "daysActive"}
			}
			su.DaysActive = &n
			return nil
		case keyIs(key, "teamRoles"): // only in some answers, never in lists: encoding/json
			raw, err := s.raw()
			if err != nil {
				return err
			}
			return json.Unmarshal(raw, &su.TeamRoles)
		case keyIs(key, "meta"):
			return s.object(where+".meta", func(key []byte) error {
				if keyIs(key, "created") {
					return scanString(s, &su.Meta.Created)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
}

// scanFrom reads emails as UnmarshalJSON does: null changes nothing, an
// object with a value replaces them, an array's values are added.
func (e *scimEmails) scanFrom(s *jsonScanner) error {
	c, err := s.peekIn()
	switch {
	case err != nil:
		return err
	case c == '{':
		v, err := scanEmail(s)
		if v != "" {
			*e = scimEmails{v}
		}
		return err
	case c == '[':
		return s.array("emails", func() error {
			v, err := scanEmail(s)
			if v != "" {
				*e = append(*e, v)
			}
			return err
		})
	case c == 'n':
		return s.literal("null")
	}
	return s.mismatch(c, "an object or an array", "emails")
}

// scanEmail reads an email object (or null) and returns its value.
func scanEmail(s *jsonScanner) (string, error) {
	v := ""
	err := s.object("emails", func(key []byte) error {
		if keyIs(key, "value") {
			return scanString(s, &v)
		}
		return s.skip()
	})
	return v, err
}

// keyIs reports whether an object's key names the field name, as
// encoding/json matches them: case-insensitively.
func keyIs(key []byte, name string) bool {
	return bytes.EqualFold(key, []byte(name))
}

// scanString reads a string into dst; null leaves it.
func scanString(s *jsonScanner, dst *string) error {
	var ok bool
	var err error
	if s.text, ok, err = s.appendStr(s.text[:0], "a string field"); ok && err == nil {
		*dst = string(s.text)
	}
	return err
}

// scanOptString reads a string into *dst, or null as nil.
func scanOptString(s *jsonScanner, dst **string) error {
	var ok bool
	var err error
	*dst = nil
	if s.text, ok, err = s.appendStr(s.text[:0], "a string field"); ok && err == nil {
		v := string(s.text)
		*dst = &v
	}
	return err
}

// scanInt reads an integer into dst; null leaves it.
func scanInt(s *jsonScanner, dst *int) error {
	raw, err := s.raw()
	if err != nil || string(raw) == "null" {
		return err
	}
	n, err := strconv.Atoi(string(raw)) // raw is JSON: a number, or not an int
	if err != nil {
		return &json.UnmarshalTypeError{Value: "number " + string(raw)}
	}
	*dst = n
	return nil
}
