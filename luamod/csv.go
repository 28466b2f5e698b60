package luamod

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/atomicfile"
)

// wandb.csv: CSV files as admins get them (from Excel, Google Sheets, an
// HR export), on encoding/csv.
//
//	rows, columns, lines = wandb.csv.read(path [, opts])
//	rows, columns, lines = wandb.csv.parse(text [, opts])
//	ok = wandb.csv.write(path, rows, columns [, opts])
//	text = wandb.csv.format(rows, columns [, opts])
//
// The first record is the header. Each other record becomes a row: a table
// keyed by the header's names, every value a string. lines[i] is the line
// where rows[i] starts, for messages. RFC 4180 quoting (fields with commas,
// quotes and line breaks), CRLF line ends and a UTF-8 byte-order mark are
// read; empty lines and lines of empty fields (",,,", as spreadsheets
// export empty rows) are skipped. A record with more or fewer fields than
// the header is an error naming its line.
//
// Header names are matched case-insensitively, as an HR export's "Email"
// must serve a script that reads row.email: rows are keyed by, and the
// columns list, each name in lower case, and two names that differ only in
// case are a repeated column. opts.exact_headers = true keeps the names as
// written.
//
// opts: separator (one character, default ","); for reading, required (an
// array of column names the header must have), exact_headers and name.
// Failures return nil and a message "<name>:<line>: <what>", as Lua's io
// functions do.

// csvFuncs returns the functions of wandb.csv; files says whether those
// that read and write files are included.
func csvFuncs(files bool) map[string]lua.LGFunction {
	fns := map[string]lua.LGFunction{
		"parse":  csvParse,
		"format": csvFormat,
	}
	if files {
		fns["read"] = csvRead
		fns["write"] = csvWrite
	}
	return fns
}

// csvOptions are the options of the csv functions.
type csvOptions struct {
	separator rune
	required  []string
	name      string // what messages call the input
	exact     bool   // header names as written, not in lower case
}

// checkCSVOptions reads the options table at argument n of fname. read
// says whether reading options (required, name) are allowed.
func checkCSVOptions(L *lua.LState, n int, fname string, read bool) csvOptions {
	o := csvOptions{separator: ','}
	known := `"separator"`
	if read {
		known = `"separator", "required", "exact_headers", "name"`
	}
	forOptions(L, n, fname, func(k string, v lua.LValue) bool {
		switch {
		case k == "separator":
			s, ok := v.(lua.LString)
			r, size := utf8.DecodeRuneInString(string(s))
			if !ok || size != len(s) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
				argError(L, n, fname, "separator must be one character other than a quote or a line break")
			}
			o.separator = r
		case read && k == "required":
			o.required = checkStringArray(L, n, fname, "required", v)
		case read && k == "exact_headers":
			o.exact = checkBoolOption(L, n, fname, k, v)
		case read && k == "name":
			s, ok := v.(lua.LString)
			if !ok {
				argError(L, n, fname, "name must be a string, got "+v.Type().String())
			}
			o.name = string(s)
		default:
			return false
		}
		return true
	}, known)
	return o
}

// csvRead is wandb.csv.read(path [, opts]).
func csvRead(L *lua.LState) int {
	const fname = "csv.read"
	path := checkString(L, 1, fname)
	o := checkCSVOptions(L, 2, fname, true)
	if o.name == "" {
		o.name = path
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(L, fmt.Sprintf("%s: %s", path, pathErrorText(err)))
	}
	return pushCSV(L, data, o)
}

// csvParse is wandb.csv.parse(text [, opts]).
func csvParse(L *lua.LState) int {
	const fname = "csv.parse"
	text := checkString(L, 1, fname)
	o := checkCSVOptions(L, 2, fname, true)
	if o.name == "" {
		o.name = "csv text"
	}
	return pushCSV(L, []byte(text), o)
}

// pushCSV parses data and pushes rows, columns and lines, or nil and a
// message.
func pushCSV(L *lua.LState, data []byte, o csvOptions) int {
	t, err := parseCSV(data, o)
	if err != nil {
		return fail(L, err.Error())
	}
	rows := L.CreateTable(len(t.records), 0)
	lines := L.CreateTable(len(t.records), 0)
	for i, rec := range t.records {
		row := L.CreateTable(0, len(t.columns))
		for j, name := range t.columns {
			row.RawSetString(name, lua.LString(rec[j]))
		}
		rows.Append(row)
		lines.Append(lua.LNumber(t.lines[i]))
	}
	L.Push(rows)
	L.Push(stringArray(L, t.columns))
	L.Push(lines)
	return 3
}

// csvTable is a parsed CSV file.
type csvTable struct {
	columns []string
	records [][]string // each as long as columns
	lines   []int      // where each record starts
}

// parseCSV parses data, a CSV file with a header, as wandb.csv documents.
func parseCSV(data []byte, o csvOptions) (*csvTable, error) {
	errorf := func(line int, format string, args ...any) error {
		if line > 0 {
			return fmt.Errorf("%s:%d: %s", o.name, line, fmt.Sprintf(format, args...))
		}
		return fmt.Errorf("%s: %s", o.name, fmt.Sprintf(format, args...))
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, errorf(0, "the file is UTF-16; save it as CSV UTF-8")
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = o.separator
	r.FieldsPerRecord = -1 // checked here, to skip empty rows and word the error
	r.ReuseRecord = false
	t := &csvTable{}
	headerLine := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errorf(pe.Line, "%v", pe.Err)
			}
			return nil, errorf(0, "%v", err)
		}
		line, _ := r.FieldPos(0)
		if blankRecord(rec) {
			continue
		}
		if t.columns == nil {
			cols, err := csvHeader(rec, o.required, o.exact)
			if err != nil {
				return nil, errorf(line, "%v", err)
			}
			t.columns, headerLine = cols, line
			continue
		}
		if len(rec) != len(t.columns) {
			return nil, errorf(line, "%d fields, but the header (line %d) has %d", len(rec), headerLine, len(t.columns))
		}
		t.records = append(t.records, rec)
		t.lines = append(t.lines, line)
	}
	if t.columns == nil {
		return nil, errorf(0, "no header line")
	}
	return t, nil
}

// blankRecord reports whether every field of rec is empty or white space.
func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// csvHeader checks the header rec and returns its column names, with
// surrounding white space removed and, unless exact, in lower case; the
// required names are then matched in lower case too.
func csvHeader(rec []string, required []string, exact bool) ([]string, error) {
	cols := make([]string, len(rec))
	seen := map[string]bool{}
	for i, name := range rec {
		name = strings.TrimSpace(name)
		if !exact {
			name = strings.ToLower(name)
		}
		switch {
		case name == "":
			return nil, fmt.Errorf("column %d of the header has no name", i+1)
		case seen[name]:
			return nil, fmt.Errorf("the header has column '%s' twice", name)
		}
		seen[name] = true
		cols[i] = name
	}
	for _, name := range required {
		if !exact {
			name = strings.ToLower(name)
		}
		if !seen[name] {
			return nil, fmt.Errorf("no '%s' column (the columns are: %s)", name, strings.Join(cols, ", "))
		}
	}
	return cols, nil
}

// csvWrite is wandb.csv.write(path, rows, columns [, opts]): true, or nil
// and a message. The file is written as wandb.write_private writes: only
// its owner can read it (rows of users are personal data), replaced
// atomically.
func csvWrite(L *lua.LState) int {
	const fname = "csv.write"
	path := checkString(L, 1, fname)
	text := formatCSV(L, fname, 2)
	if err := atomicfile.WritePrivate(path, []byte(text)); err != nil {
		return fail(L, fmt.Sprintf("%s: %s", path, pathErrorText(err)))
	}
	L.Push(lua.LTrue)
	return 1
}

// csvFormat is wandb.csv.format(rows, columns [, opts]): the CSV text.
func csvFormat(L *lua.LState) int {
	L.Push(lua.LString(formatCSV(L, "csv.format", 1)))
	return 1
}

// formatCSV formats the rows and columns at arguments n and n+1 (and the
// options at n+2) as CSV text: a header of the columns, then one record
// per row with row[column] for each column: strings as they are, numbers
// as Lua prints integers and otherwise %.14g, booleans as true/false, and
// nil (or wandb.json.null) as an empty field.
func formatCSV(L *lua.LState, fname string, n int) string {
	rows := checkArray(L, n, fname)
	cols := checkStringArray(L, n+1, fname, "columns", L.Get(n+1))
	if len(cols) == 0 {
		argError(L, n+1, fname, "columns must name at least one column")
	}
	o := checkCSVOptions(L, n+2, fname, false)
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = o.separator
	_ = w.Write(cols) // a strings.Builder does not fail
	rec := make([]string, len(cols))
	limit, done := maxString(L), runDone(L)
	for i := 1; i <= rows.Len(); i++ {
		if limit > 0 && int64(b.Len()) > limit {
			raise(L, fname+": "+tooLargeText(float64(b.Len()), limit))
		}
		if i%1024 == 0 {
			stopIfDone(L, done)
		}
		row, ok := rows.RawGetInt(i).(*lua.LTable)
		if !ok {
			argError(L, n, fname, fmt.Sprintf("row %d is a %s, not a table", i, valueTypeName(L, rows.RawGetInt(i))))
		}
		for j, col := range cols {
			s, ok := csvField(row.RawGetString(col))
			if !ok {
				argError(L, n, fname, fmt.Sprintf("row %d, column '%s': a %s cannot be a CSV field", i, col, valueTypeName(L, row.RawGetString(col))))
			}
			rec[j] = s
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if limit > 0 && int64(b.Len()) > limit {
		raise(L, fname+": "+tooLargeText(float64(b.Len()), limit))
	}
	return b.String()
}

// csvField converts a row's value to a field.
func csvField(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return strconv.FormatFloat(f, 'g', 14, 64), true
	case lua.LBool:
		return strconv.FormatBool(bool(x)), true
	case *lua.LNilType:
		return "", true
	}
	if isJSONNull(v) {
		return "", true
	}
	return "", false
}

// pathErrorText is err without the path os errors repeat.
func pathErrorText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// fail pushes nil and msg, a recoverable failure as Lua's io functions
// report one.
func fail(L *lua.LState, msg string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(msg))
	return 2
}
