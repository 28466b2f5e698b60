package sdkfiles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The SDK's settings files (wandb/sdk/lib/settings_file.py, read by
// wandb/sdk/wandb_setup.py): INI files whose [default] section holds
// settings such as base_url. The system file is $WANDB_CONFIG_DIR/settings,
// else ~/.config/wandb/settings; the workspace file is ./wandb/settings
// (./.wandb/settings when ./.wandb exists). The workspace file overrides
// the system file, and environment variables override both.

// SettingsFiles returns the settings files in the order they apply, the
// later overriding the earlier: the system file ("" when there is no home
// directory to find it in) and the workspace file.
func (e Env) SettingsFiles() (system, workspace string) {
	if dir := e.Getenv("WANDB_CONFIG_DIR"); dir != "" {
		system = e.path(filepath.Join(e.ExpandUser(dir), "settings"))
	} else if home, err := e.HomeDir(); err == nil {
		system = filepath.Join(home, ".config", "wandb", "settings")
	}
	workspace = e.path(filepath.Join("wandb", "settings"))
	if fi, err := os.Stat(e.path(".wandb")); err == nil && fi.IsDir() {
		workspace = e.path(filepath.Join(".wandb", "settings"))
	}
	return system, workspace
}

// ReadSetting returns the value of key in the [default] section of the
// settings file at path, as Python's configparser reads it; ok is false
// when the file does not exist or does not set it. An error (the file
// cannot be read or parsed) names a line, not the file.
func ReadSetting(path, key string) (value string, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, errors.New("cannot read file")
	}
	sections, err := parseINI(string(data))
	if err != nil {
		return "", false, err
	}
	sec, has := sections["default"]
	if !has {
		return "", false, nil // as configparser: [DEFAULT] alone is no [default]
	}
	raw, has := sec[key]
	if !has {
		raw, has = sections["DEFAULT"][key]
	}
	if !has {
		return "", false, nil
	}
	v, err := interpolate(raw, sections["default"], sections["DEFAULT"], 0)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", key, err)
	}
	return v, true, nil
}

// iniSection is an INI section's options, names lower-cased.
type iniSection map[string]string

// parseINI parses text as Python's configparser.ConfigParser reads it
// (strict, the default): "[section]" headers; "name = value" or
// "name: value" options, names case-insensitive; lines starting with "#"
// or ";" as comments; a line indented more than its option continues the
// value. A section or option given twice, an option before any section,
// and a line that is none of these are errors naming the line.
func parseINI(text string) (map[string]iniSection, error) {
	sections := map[string]iniSection{}
	seen := map[string]bool{} // sections and section/option pairs
	var cur iniSection
	var curName, opt string
	indent := 0
	for n, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		lineNo := n + 1
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			continue
		}
		if trimmed == "" {
			if cur != nil && opt != "" {
				cur[opt] += "\n" // configparser keeps empty lines inside a value
			}
			continue
		}
		lineIndent := len(line) - len(strings.TrimLeft(line, " \t"))
		if cur != nil && opt != "" && lineIndent > indent {
			cur[opt] += "\n" + trimmed
			continue
		}
		indent = lineIndent
		if m := iniSectionHeader.FindStringSubmatch(trimmed); m != nil {
			name := m[1]
			if seen[name] && name != "DEFAULT" {
				return nil, fmt.Errorf("line %d: section [%s] given twice", lineNo, name)
			}
			seen[name] = true
			if sections[name] == nil {
				sections[name] = iniSection{}
			}
			cur, curName, opt = sections[name], name, ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: no [default] section header before it", lineNo)
		}
		i := strings.IndexAny(trimmed, "=:")
		if i < 0 || strings.TrimSpace(trimmed[:i]) == "" {
			return nil, fmt.Errorf("line %d: not a section header or name = value", lineNo)
		}
		name := strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if seen[curName+"\x00"+name] {
			return nil, fmt.Errorf("line %d: option %s given twice in [%s]", lineNo, name, curName)
		}
		seen[curName+"\x00"+name] = true
		cur[name] = strings.TrimSpace(trimmed[i+1:])
		opt = name
	}
	for _, sec := range sections {
		for k, v := range sec {
			sec[k] = strings.TrimRight(v, "\n \t")
		}
	}
	return sections, nil
}

var iniSectionHeader = regexp.MustCompile(`^\[(.+)\]$`)

// interpolate expands configparser's BasicInterpolation in v: "%%" is "%",
// "%(name)s" is the value of name in sec, else in def.
func interpolate(v string, sec, def iniSection, depth int) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	if depth > 10 {
		return "", errors.New("interpolation nested too deeply")
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '%')
		if i < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		b.WriteString(v[:i])
		rest := v[i+1:]
		switch {
		case strings.HasPrefix(rest, "%"):
			b.WriteByte('%')
			v = rest[1:]
		case strings.HasPrefix(rest, "("):
			end := strings.Index(rest, ")s")
			if end < 0 {
				return "", errors.New("a % reference must look like %(name)s")
			}
			name := strings.ToLower(rest[1:end])
			ref, ok := sec[name]
			if !ok {
				ref, ok = def[name]
			}
			if !ok {
				return "", fmt.Errorf("%%(%s)s refers to no option", name)
			}
			x, err := interpolate(ref, sec, def, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(x)
			v = rest[end+2:]
		default:
			return "", errors.New("a % must be followed by % or (; write %% for a percent sign")
		}
	}
}
