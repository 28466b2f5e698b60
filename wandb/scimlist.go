package wandb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// Listing a whole SCIM collection. W&B documents at most 9,999 resources
// per answer ("maximum 9999 items per request") and no way to ask for the
// rest; RFC 7644's startIndex and count (§3.4.2.4) are assumed for it.
// The first page is asked for as W&B documents the list, without them;
// the next ones with startIndex and count. A server that ignores them
// answers the first page again: that is seen, never read as the rest.

// pagesAtOnce is how many pages scimListAll asks for at once after the
// first: a far server's latency is paid once per batch, not per page.
const pagesAtOnce = 4

// scimListAll lists every resource of path ("/Users", "/Groups"), page by
// page, in the server's order; id gives a resource's id, by which pages
// are checked for resources listed before. After the first page, which
// sets the page size, up to pagesAtOnce pages are asked for at once. When
// the server does not page (a page answers another startIndex than the
// one asked, lists resources listed before, or lists none before
// totalResults are listed), it returns what it listed with an error with
// CodeIncomplete; what names the resources in its message ("users",
// "teams"). Any other failure returns nil and the error.
func scimListAll[T any](ctx context.Context, c *Client, op Op, path, what string, id func(*T) string) ([]T, error) {
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
		// A batch of pages, from startIndex next on, each of size.
		next := len(all) + 1
		pages := make([]scimList[T], min(pagesAtOnce, (total-len(all)+size-1)/size))
		errs := make([]error, len(pages))
		var wg sync.WaitGroup
		for k := range pages {
			wg.Add(1)
			go func() {
				defer wg.Done()
				query := url.Values{"startIndex": {strconv.Itoa(next + k*size)}, "count": {strconv.Itoa(size)}}
				errs[k] = c.scimDo(ctx, op, http.MethodGet, path, query, nil, &pages[k])
			}()
		}
		wg.Wait()
		for k := range pages {
			if errs[k] != nil {
				return nil, errs[k]
			}
			start, page := len(all)+1, pages[k].Resources
			if why := notPaged(start, &pages[k], seen, id, what); why != "" {
				return all, c.newError(Error{Op: op, Code: CodeIncomplete, Message: fmt.Sprintf(
					"the SCIM API listed %d of its %d %s and does not page past them (%s); W&B documents at most 9,999 per answer and no paging",
					len(all), total, what, why)})
			}
			all = append(all, page...)
			if len(page) != size {
				break // a short page: the batch's next pages start elsewhere, ask again
			}
		}
	}
	return all, nil
}

// notPaged returns why page, asked for from start, is not the next page
// of the list, or "" when it is; it adds the page's ids to seen.
func notPaged[T any](start int, page *scimList[T], seen map[string]bool, id func(*T) string, what string) string {
	switch {
	case page.StartIndex != 0 && page.StartIndex != start:
		return fmt.Sprintf("asked for the page from %d, it answered the page from %d", start, page.StartIndex)
	case len(page.Resources) == 0:
		return fmt.Sprintf("it listed none from %d", start)
	}
	for i := range page.Resources {
		if seen[id(&page.Resources[i])] {
			return fmt.Sprintf("asked for the page from %d, it listed again %s listed before", start, what)
		}
	}
	for i := range page.Resources {
		seen[id(&page.Resources[i])] = true
	}
	return ""
}
