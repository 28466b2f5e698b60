package wandbtest

import (
	"strconv"
	"strings"
)

// Free names for usernames: a username derived from an email's local part
// (alice, then alice-2, alice-3, ...) and a service account's (ml-service,
// ml-service-2, ...) is the base itself if free, else base-i for the
// smallest free i >= 2. Usernames and team names share one namespace.
//
// Looking for i from 2 each time made seeding n users who share a local
// part take n²/2 lookups (20,000 of them took 30 s). nextSuffix remembers,
// per base, a suffix below which every base-i is taken, so the search
// starts there: each suffix is looked at about once. A name that becomes
// free again (a deleted user's) lowers its base's hint, so the result is
// the same as searching from 2.

// nameTaken reports whether name is a username or a team name.
func (s *store) nameTaken(name string) bool {
	return s.byUsername[name] != nil || s.teamByName[name] != nil
}

// freeName returns the first free name for base, as above, and counts
// the names it looked at in s.nameProbes. The caller takes the name.
func (s *store) freeName(base string) string {
	s.nameProbes++
	if !s.nameTaken(base) {
		return base
	}
	i := max(s.nextSuffix[base], 2)
	name := base + "-" + strconv.Itoa(i)
	for s.nameProbes++; s.nameTaken(name); s.nameProbes++ {
		i++
		name = base + "-" + strconv.Itoa(i)
	}
	s.nextSuffix[base] = i + 1
	return name
}

// nameFreed records that name is free again: if it is base-i, base's
// search must start at i again.
func (s *store) nameFreed(name string) {
	cut := strings.LastIndexByte(name, '-')
	if cut < 0 {
		return
	}
	base, suffix := name[:cut], name[cut+1:]
	i, err := strconv.Atoi(suffix)
	if err != nil || i < 2 || strconv.Itoa(i) != suffix {
		return // not a name freeName makes
	}
	if next, ok := s.nextSuffix[base]; ok && i < next {
		s.nextSuffix[base] = i
	}
}
