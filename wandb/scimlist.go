package wandb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Listing a whole SCIM collection. W&B documents at most 9,999 resources
// per answer ("maximum 9999 items per request") and no way to ask for the
// rest; RFC 7644's startIndex and count (§3.4.2.4) are assumed for it.
// The first page is asked for as W&B documents the list, without them;
// the next ones with startIndex and count. A server that ignores them
// answers the first page again: that is seen, never read as the rest.

// scimListAll lists every resource of path ("/Users", "/Groups"), page by
// page, in the server's order; id gives a resource's id, by which pages
// are checked for resources listed before. When the server does not page
// (a page answers another startIndex than the one asked, lists resources
// listed before, or lists none before totalResults are listed), it
// returns what it listed with an error with CodeIncomplete; what names
// the resources in its message ("users", "teams"). Any other failure
// returns nil and the error.
func scimListAll[T any](ctx context.Context, c *Client, op, path, what string, id func(*T) string) ([]T, error) {
	var first scimList[T]
	if err := c.scimDo(ctx, op, http.MethodGet, path, nil, nil, &first); err != nil {
		return nil, err
	}
	all, total, size := first.Resources, first.TotalResults, len(first.Resources)
	if len(all) >= total || size == 0 {
		return all, nil
	}
	seen := make(map[string]bool, min(total, 1<<20)) // total is the server's word: bounded
	for i := range all {
		seen[id(&all[i])] = true
	}
	for len(all) < total {
		start := len(all) + 1
		var page scimList[T]
		query := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(size)}}
		if err := c.scimDo(ctx, op, http.MethodGet, path, query, nil, &page); err != nil {
			return nil, err
		}
		why := ""
		switch {
		case page.StartIndex != 0 && page.StartIndex != start:
			why = fmt.Sprintf("asked for the page from %d, it answered the page from %d", start, page.StartIndex)
		case len(page.Resources) == 0:
			why = fmt.Sprintf("it listed none from %d", start)
		}
		for i := range page.Resources {
			if why != "" {
				break
			}
			if k := id(&page.Resources[i]); seen[k] {
				why = fmt.Sprintf("asked for the page from %d, it listed again %s listed before", start, what)
			} else {
				seen[k] = true
			}
		}
		if why != "" {
			return all, c.newError(Error{Op: op, Code: CodeIncomplete, Message: fmt.Sprintf(
				"the SCIM API listed %d of its %d %s and does not page past them (%s); W&B documents at most 9,999 per answer and no paging",
				len(all), total, what, why)})
		}
		all = append(all, page.Resources...)
	}
	return all, nil
}
