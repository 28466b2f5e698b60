package luamod

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/wandb-lua/wandb-lua/wandb/atomicfile"
)

// wandb.json: JSON for reports and for the files other tools write, on
// encoding/json.
//
//	text = wandb.json.encode(value [, {indent = "  "}])   -- or nil, msg
//	ok = wandb.json.write(path, value [, {indent = "  "}]) -- or nil, msg
//	value = wandb.json.decode(text)                       -- or nil, msg
//	wandb.json.null                  -- JSON null, in both directions
//	t = wandb.json.array(t), t = wandb.json.object(t)  -- mark a table
//
// Lua has one table type where JSON has two, so the encoder decides:
//   - a table marked with wandb.json.array is an array and one marked with
//     wandb.json.object an object (decode marks the tables it returns, so
//     decoding and encoding again gives the same JSON, [] and {} included);
//   - an unmarked table whose keys are 1..n is an array; one whose keys
//     are all strings is an object; an empty one is an array ([]);
//   - anything else (mixed keys, holes, other key types) is an error.
//
// Object keys are written sorted, so the output is the same from run to
// run. Integers are written without a fraction. nil at the top and
// wandb.json.null are null. A string that is not valid UTF-8, NaN and
// infinities, functions, the module's values (a User: build a table of the
// fields you want) and cycles are errors naming where in the value they
// are, e.g. "$.users[3].email".

// Registry names of the JSON metatables.
const (
	jsonNullTypeName   = "wandb.json.null"
	jsonArrayTypeName  = "wandb.json.array"
	jsonObjectTypeName = "wandb.json.object"
)

// maxJSONDepth bounds how deep encode goes: deeper is taken for a cycle
// made some other way than through the same table.
const maxJSONDepth = 1000

// jsonNull is the Value of the wandb.json.null userdata.
type jsonNull struct{}

// registerJSONTypes creates wandb.json.null and the metatables that mark
// arrays and objects.
func registerJSONTypes(L *lua.LState) {
	mt := L.NewTypeMetatable(jsonNullTypeName)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(jsonNullTypeName))
		return 1
	}))
	mt.RawSetString("__concat", L.NewFunction(concat))
	mt.RawSetString("__metatable", lua.LString(jsonNullTypeName))
	null := L.NewUserData()
	null.Value = jsonNull{}
	L.SetMetatable(null, mt)
	L.G.Registry.RawSetString(jsonNullTypeName+".value", null)
	L.NewTypeMetatable(jsonArrayTypeName)
	L.NewTypeMetatable(jsonObjectTypeName)
}

// jsonNullValue returns L's wandb.json.null.
func jsonNullValue(L *lua.LState) lua.LValue {
	return L.G.Registry.RawGetString(jsonNullTypeName + ".value")
}

// isJSONNull reports whether v is wandb.json.null.
func isJSONNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(jsonNull)
	return ok
}

// jsonModule returns the table wandb.json; files says whether write,
// which writes a file, is included.
func jsonModule(L *lua.LState, files bool) *lua.LTable {
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"encode": jsonEncode,
		"decode": jsonDecode,
		"array":  jsonMark("json.array", jsonArrayTypeName),
		"object": jsonMark("json.object", jsonObjectTypeName),
	})
	if files {
		t.RawSetString("write", L.NewFunction(jsonWrite))
	}
	t.RawSetString("null", jsonNullValue(L))
	return t
}

// jsonMark returns wandb.json.array or wandb.json.object: it sets the
// marking metatable on its table argument (a new table when absent) and
// returns it.
func jsonMark(fname, typ string) lua.LGFunction {
	return func(L *lua.LState) int {
		var t *lua.LTable
		switch v := L.Get(1).(type) {
		case *lua.LNilType:
			t = L.NewTable()
		case *lua.LTable:
			t = v
		default:
			argError(L, 1, fname, "table expected, got "+typeName(L, 1))
		}
		mt := L.GetMetatable(t)
		if mt != lua.LNil && mt != L.GetTypeMetatable(jsonArrayTypeName) && mt != L.GetTypeMetatable(jsonObjectTypeName) {
			argError(L, 1, fname, "the table has a metatable of its own")
		}
		L.SetMetatable(t, L.GetTypeMetatable(typ))
		L.Push(t)
		return 1
	}
}

// jsonEncode is wandb.json.encode(value [, opts]).
func jsonEncode(L *lua.LState) int {
	text, msg := encodeJSON(L, "json.encode", 1)
	if msg != "" {
		return fail(L, msg)
	}
	L.Push(lua.LString(text))
	return 1
}

// jsonWrite is wandb.json.write(path, value [, opts]): the value's JSON
// text, and a line end, written as csv.write writes (only its owner can
// read the file, replaced atomically): true, or nil and a message.
func jsonWrite(L *lua.LState) int {
	const fname = "json.write"
	path := checkString(L, 1, fname)
	text, msg := encodeJSON(L, fname, 2)
	if msg != "" {
		return fail(L, msg)
	}
	if err := atomicfile.WritePrivate(path, []byte(text+"\n")); err != nil {
		return fail(L, fmt.Sprintf("%s: %s", path, pathErrorText(err)))
	}
	L.Push(lua.LTrue)
	return 1
}

// encodeJSON encodes the value at argument n of fname with the options at
// n+1: the text, or a message ("<fname>: $.users[3].email: ...") for a
// value JSON cannot hold. A mistake in the options raises.
func encodeJSON(L *lua.LState, fname string, n int) (text, msg string) {
	indent := ""
	forOptions(L, n+1, fname, func(k string, v lua.LValue) bool {
		if k != "indent" {
			return false
		}
		switch x := v.(type) {
		case lua.LNumber:
			if x < 0 || x > 16 || x != lua.LNumber(int(x)) {
				argError(L, n+1, fname, "indent must be an integer from 0 to 16 or a string of spaces and tabs")
			}
			indent = strings.Repeat(" ", int(x))
		case lua.LString:
			if strings.Trim(string(x), " \t") != "" {
				argError(L, n+1, fname, "indent must be an integer from 0 to 16 or a string of spaces and tabs")
			}
			indent = string(x)
		default:
			argError(L, n+1, fname, "indent must be a number or a string, got "+valueTypeName(L, v))
		}
		return true
	}, `"indent"`)
	if L.GetTop() < n {
		argError(L, n, fname, "value expected")
	}
	e := jsonEncoder{L: L, array: L.GetTypeMetatable(jsonArrayTypeName), object: L.GetTypeMetatable(jsonObjectTypeName), seen: map[*lua.LTable]bool{},
		max: maxString(L), done: runDone(L)}
	v, err := e.value(L.Get(n), "$", 0)
	if err != nil {
		return "", fname + ": " + err.Error()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return "", fname + ": " + err.Error()
	}
	if e.max > 0 && int64(b.Len()-1) > e.max {
		return "", fname + ": " + tooLargeText(float64(b.Len()-1), e.max)
	}
	return strings.TrimSuffix(b.String(), "\n"), ""
}

// jsonEncoder converts Lua values to the Go values encoding/json writes.
type jsonEncoder struct {
	L             *lua.LState
	array, object lua.LValue // the marking metatables
	seen          map[*lua.LTable]bool
	// max is Limits.MaxString (0: none) and size the least the text takes
	// so far: a table reached twice is encoded twice, so that a few
	// tables ({t, t} nested) can make a text of any length. done is the
	// run's context, looked at every 4096 values.
	max, size int64
	done      <-chan struct{}
	values    int
}

// value converts v, found at path.
func (e *jsonEncoder) value(v lua.LValue, path string, depth int) (any, error) {
	e.size++ // at least a byte
	if s, ok := v.(lua.LString); ok {
		e.size += int64(len(s)) + 1
	}
	if e.max > 0 && e.size > e.max {
		return nil, errors.New(tooLargeText(float64(e.size), e.max))
	}
	if e.values++; e.values%4096 == 0 {
		stopIfDone(e.L, e.done)
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		f := float64(x)
		switch {
		case math.IsNaN(f):
			return nil, fmt.Errorf("%s: nan has no JSON form", path)
		case math.IsInf(f, 1):
			return nil, fmt.Errorf("%s: inf has no JSON form", path)
		case math.IsInf(f, -1):
			return nil, fmt.Errorf("%s: -inf has no JSON form", path)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return json.Number(strconv.FormatInt(int64(f), 10)), nil
		}
		return f, nil
	case lua.LString:
		if !utf8.ValidString(string(x)) {
			return nil, fmt.Errorf("%s: the string is not valid UTF-8", path)
		}
		return string(x), nil
	case *lua.LTable:
		return e.table(x, path, depth)
	}
	if isJSONNull(v) {
		return nil, nil
	}
	if name := typeNameOf(e.L, v); name != "" {
		return nil, fmt.Errorf("%s: cannot encode a %s; build a table of the fields you want", path, name)
	}
	return nil, fmt.Errorf("%s: cannot encode a %s", path, v.Type())
}

// table converts t, found at path, to an array or an object.
func (e *jsonEncoder) table(t *lua.LTable, path string, depth int) (any, error) {
	if e.seen[t] {
		return nil, fmt.Errorf("%s: the table contains itself", path)
	}
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("%s: nested more than %d deep", path, maxJSONDepth)
	}
	e.seen[t] = true
	defer delete(e.seen, t)

	n := t.Len()
	strs, ints := 0, 0
	var notString, notIndex lua.LValue // the first key of each kind
	t.ForEach(func(k, _ lua.LValue) {
		if _, ok := k.(lua.LString); ok {
			strs++
			return
		}
		if notString == nil {
			notString = k
		}
		if num, ok := k.(lua.LNumber); ok && lua.LNumber(int(num)) == num && int(num) >= 1 && int(num) <= n {
			ints++
		} else if notIndex == nil {
			notIndex = k
		}
	})
	mt := e.L.GetMetatable(t)
	asArray := mt == e.array || (mt != e.object && strs == 0)
	switch {
	case asArray && strs > 0:
		return nil, fmt.Errorf("%s: an array with string keys", path)
	case asArray && notIndex != nil:
		return nil, fmt.Errorf("%s: an array with a key that is not 1..n (%s)", path, quoteLua(notIndex))
	case asArray && ints != n:
		hole := 1
		for t.RawGetInt(hole) != lua.LNil {
			hole++
		}
		return nil, fmt.Errorf("%s: an array with a hole (item %d is nil)", path, hole)
	case !asArray && mt != e.object && ints > 0:
		return nil, fmt.Errorf("%s: a table with both string keys and array items", path)
	case !asArray && notString != nil:
		return nil, fmt.Errorf("%s: an object with a key that is not a string (%s)", path, quoteLua(notString))
	}
	if asArray {
		out := make([]any, n)
		for i := 1; i <= n; i++ {
			v, err := e.value(t.RawGetInt(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i-1] = v
		}
		return out, nil
	}
	out := make(map[string]any, strs)
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		key := string(k.(lua.LString))
		if !utf8.ValidString(key) {
			err = fmt.Errorf("%s: a key that is not valid UTF-8", path)
			return
		}
		out[key], err = e.value(v, jsonPath(path, key), depth+1)
	})
	return out, err
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// jsonPath is path extended by the object key k, as Lua would index it.
func jsonPath(path, k string) string {
	if identifier.MatchString(k) {
		return path + "." + k
	}
	return path + "[" + strconv.Quote(k) + "]"
}

// jsonDecode is wandb.json.decode(text).
func jsonDecode(L *lua.LState) int {
	const fname = "json.decode"
	text := checkString(L, 1, fname)
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fail(L, "json.decode: "+decodeErrorText(text, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := lineCol(text, dec.InputOffset())
		return fail(L, fmt.Sprintf("json.decode: line %d, column %d: more after the value", line, col))
	}
	lv, err := toLua(L, v)
	if err != nil {
		return fail(L, "json.decode: "+err.Error())
	}
	L.Push(lv)
	return 1
}

// decodeErrorText words a decoding error with the line and column it
// happened at.
func decodeErrorText(text string, err error) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return "no JSON value"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the text ends in the middle of a value"
	case errors.As(err, &se):
		line, col := lineCol(text, se.Offset)
		return fmt.Sprintf("line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	return err.Error()
}

// lineCol returns the 1-based line and column of byte offset off in text
// (encoding/json's offsets count the byte that was read last).
func lineCol(text string, off int64) (line, col int) {
	if off > int64(len(text)) {
		off = int64(len(text))
	}
	before := text[:off]
	line = strings.Count(before, "\n") + 1
	col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	return line, max(col, 1)
}

// toLua converts a decoded JSON value to Lua: objects and arrays become
// marked tables, null wandb.json.null, numbers Lua numbers.
func toLua(L *lua.LState, v any) (lua.LValue, error) {
	switch x := v.(type) {
	case nil:
		return jsonNullValue(L), nil
	case bool:
		return lua.LBool(x), nil
	case string:
		return lua.LString(x), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("the number %s is out of range", x)
		}
		return lua.LNumber(f), nil
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, item := range x {
			lv, err := toLua(L, item)
			if err != nil {
				return nil, err
			}
			t.Append(lv)
		}
		L.SetMetatable(t, L.GetTypeMetatable(jsonArrayTypeName))
		return t, nil
	case map[string]any:
		t := L.CreateTable(0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a deterministic table layout
		for _, k := range keys {
			lv, err := toLua(L, x[k])
			if err != nil {
				return nil, err
			}
			t.RawSetString(k, lv)
		}
		L.SetMetatable(t, L.GetTypeMetatable(jsonObjectTypeName))
		return t, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}
