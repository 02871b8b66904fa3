// Command helm-render renders a Helm chart without helm: Go's text/template plus sprig,
// with the helm built-ins Cepheus' chart relies on (.Values, .Release, .Chart,
// .Capabilities, .Template, .Files.Get/Glob/AsConfig, include, tpl, required, fail,
// toYaml, fromYaml, toJson, fromJson) implemented the way helm 3 implements them:
//
//   - values: the chart's values.yaml, then each -f file coalesced over it in order
//     (maps merge recursively, a null in a user file deletes the default); numbers are
//     float64 like helm's (YAML → JSON → Go);
//   - templates are named "<chart>/templates/<path>", files starting with "_" are only
//     parsed, NOTES.txt is rendered apart, "<no value>" is blanked (missingkey=zero, or
//     missingkey=error with --strict like `helm lint --strict`);
//   - env/expandenv are removed from sprig as in helm;
//   - every rendered document must be valid YAML with apiVersion, kind and metadata.name
//     (helm template fails the same way), and Chart.yaml is checked as `helm lint` does
//     (apiVersion v2, name equal to the directory, SemVer 2 version).
//
// It exists because no helm binary is available where Cepheus' CI runs; where helm
// exists, `helm lint` / `helm template` remain the reference (see docs/deploy.md).
//
// Build offline against Debian's packaged sprig (golang-github-masterminds-sprig-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off go build -o helm-render ./tools/helm-render
//
// Usage:
//
//	helm-render [--release NAME] [--namespace NS] [--strict] [-o yaml|json] [-f values.yaml]... CHART_DIR
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/semver/v3"
	"github.com/Masterminds/sprig/v3"
	"gopkg.in/yaml.v3"
)

// ---- helm objects -------------------------------------------------------------------

// Metadata mirrors helm's chart.Metadata, so a misspelt field (.Chart.name) fails like in helm.
type Metadata struct {
	Name         string            `yaml:"name" json:"name"`
	Home         string            `yaml:"home" json:"home,omitempty"`
	Sources      []string          `yaml:"sources" json:"sources,omitempty"`
	Version      string            `yaml:"version" json:"version"`
	Description  string            `yaml:"description" json:"description,omitempty"`
	Keywords     []string          `yaml:"keywords" json:"keywords,omitempty"`
	Maintainers  []Maintainer      `yaml:"maintainers" json:"maintainers,omitempty"`
	Icon         string            `yaml:"icon" json:"icon,omitempty"`
	APIVersion   string            `yaml:"apiVersion" json:"apiVersion"`
	Condition    string            `yaml:"condition" json:"condition,omitempty"`
	Tags         string            `yaml:"tags" json:"tags,omitempty"`
	AppVersion   string            `yaml:"appVersion" json:"appVersion,omitempty"`
	Deprecated   bool              `yaml:"deprecated" json:"deprecated,omitempty"`
	Annotations  map[string]string `yaml:"annotations" json:"annotations,omitempty"`
	KubeVersion  string            `yaml:"kubeVersion" json:"kubeVersion,omitempty"`
	Dependencies []interface{}     `yaml:"dependencies" json:"dependencies,omitempty"`
	Type         string            `yaml:"type" json:"type,omitempty"`
}

// Maintainer mirrors helm's chart.Maintainer.
type Maintainer struct {
	Name  string `yaml:"name" json:"name,omitempty"`
	Email string `yaml:"email" json:"email,omitempty"`
	URL   string `yaml:"url" json:"url,omitempty"`
}

// Release mirrors the fields of helm's .Release.
type Release struct {
	Name      string
	Namespace string
	IsUpgrade bool
	IsInstall bool
	Revision  int
	Service   string
}

// VersionSet mirrors helm's chartutil.VersionSet.
type VersionSet []string

// Has reports whether an API version (group/version or group/version/Kind) is available.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion mirrors helm's chartutil.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

// Capabilities mirrors helm's chartutil.Capabilities (offline defaults, like `helm template`).
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

// TemplateInfo is .Template.
type TemplateInfo struct {
	Name     string
	BasePath string
}

// Files mirrors helm's .Files: every chart file outside templates/ and the chart's own
// metadata (Chart.yaml, values.yaml, values.schema.json, charts/), minus .helmignore.
type Files map[string][]byte

// Get returns a file's content, or "" when there is no such file (as helm does).
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's content as bytes.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Lines returns a file's lines.
func (f Files) Lines(name string) []string {
	s := f.Get(name)
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// Glob returns the files whose path matches a pattern ('*' stops at '/', '**' does not,
// {a,b} alternates); an invalid pattern fails the render.
func (f Files) Glob(pattern string) (Files, error) {
	re, err := globRegexp(pattern)
	if err != nil {
		return nil, fmt.Errorf("Files.Glob %q: %w", pattern, err)
	}
	out := Files{}
	for name, data := range f {
		if re.MatchString(name) {
			out[name] = data
		}
	}
	return out, nil
}

// AsConfig renders the files as the data of a ConfigMap (keyed by base name).
func (f Files) AsConfig() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return toYAML(m)
}

// AsSecrets renders the files base64-encoded as the data of a Secret.
func (f Files) AsSecrets() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = base64.StdEncoding.EncodeToString(data)
	}
	return toYAML(m)
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	braces := 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '{':
			braces++
			b.WriteString("(?:")
		case c == '}' && braces > 0:
			braces--
			b.WriteString(")")
		case c == ',' && braces > 0:
			b.WriteString("|")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if braces != 0 {
		return nil, errors.New("unbalanced braces")
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// ---- YAML helpers (helm's toYaml/fromYaml semantics) ----------------------------------

// jsonRoundTrip turns YAML-decoded data into what helm's sigs.k8s.io/yaml yields:
// map[string]interface{}, []interface{}, float64, string, bool, nil.
func jsonRoundTrip(v interface{}) (interface{}, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out interface{}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func parseYAMLDoc(data []byte) (interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	return jsonRoundTrip(raw)
}

func marshalYAML(v interface{}) (string, error) {
	norm, err := jsonRoundTrip(v)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(norm); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// toYAML is helm's toYaml: errors give "", the trailing newline is trimmed.
func toYAML(v interface{}) string {
	s, err := marshalYAML(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(s, "\n")
}

// fromYAML is helm's fromYaml: a map, or {"Error": "..."} when the text is not a YAML map.
func fromYAML(s string) map[string]interface{} {
	v, err := parseYAMLDoc([]byte(s))
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	if v == nil {
		return map[string]interface{}{}
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return map[string]interface{}{"Error": "fromYaml: document is not a map"}
	}
	return m
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// ---- values ----------------------------------------------------------------------------

// coalesce merges src (user values) over dst (defaults) the way helm does.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if v == nil {
			delete(out, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := out[k].(map[string]interface{})
		if sok && dok {
			out[k] = coalesce(dm, sm)
		} else {
			out[k] = v
		}
	}
	return out
}

func readValuesFile(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v, err := parseYAMLDoc(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: values must be a YAML map", file)
	}
	return m, nil
}

// ---- chart loading ---------------------------------------------------------------------

type chart struct {
	dir       string
	meta      *Metadata
	values    map[string]interface{}
	templates map[string]string // "templates/x.yaml" → text
	files     Files
}

var chartNameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func loadChart(dir string) (*chart, error) {
	c := &chart{dir: dir, templates: map[string]string{}, files: Files{}}
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	meta := &Metadata{}
	if err := dec.Decode(meta); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	var problems []string
	if meta.APIVersion != "v2" {
		problems = append(problems, fmt.Sprintf("apiVersion must be v2, got %q", meta.APIVersion))
	}
	if !chartNameRe.MatchString(meta.Name) {
		problems = append(problems, fmt.Sprintf("name %q is not a valid chart name", meta.Name))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if base := filepath.Base(abs); meta.Name != base {
		problems = append(problems, fmt.Sprintf("chart directory name %q and Chart.yaml name %q must match", base, meta.Name))
	}
	if _, err := semver.StrictNewVersion(meta.Version); err != nil {
		problems = append(problems, fmt.Sprintf("version %q is not SemVer 2: %v", meta.Version, err))
	}
	if meta.Type != "" && meta.Type != "application" && meta.Type != "library" {
		problems = append(problems, fmt.Sprintf("type %q must be application or library", meta.Type))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("Chart.yaml: %s", strings.Join(problems, "; "))
	}
	c.meta = meta

	c.values, err = readValuesFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		return nil, err
	}

	ignore := readHelmignore(filepath.Join(dir, ".helmignore"))
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore.ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.templates[rel] = string(data)
		case rel == "Chart.yaml", rel == "values.yaml", rel == "values.schema.json", strings.HasPrefix(rel, "charts/"):
		default:
			c.files[rel] = data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.templates) == 0 {
		return nil, errors.New("chart has no templates/")
	}
	return c, nil
}

type helmignore []string

func readHelmignore(file string) helmignore {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var out helmignore
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// ignored applies the common subset of .helmignore rules: "dir/" matches directories,
// a pattern without "/" matches any base name, others match the relative path.
func (h helmignore) ignored(rel string, isDir bool) bool {
	if rel == ".helmignore" {
		return true
	}
	ignored := false
	for _, p := range h {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		dirOnly := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		if dirOnly && !isDir {
			continue
		}
		target := rel
		if !strings.Contains(p, "/") {
			target = path.Base(rel)
		}
		if ok, _ := path.Match(p, target); ok {
			ignored = !neg
		}
	}
	return ignored
}

// ---- rendering -------------------------------------------------------------------------

type renderer struct {
	tmpl  *template.Template
	depth int
}

func (r *renderer) funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":   toYAML,
		"fromYaml": fromYAML,
		"toJson": func(v interface{}) string {
			data, err := json.Marshal(v)
			if err != nil {
				return ""
			}
			return string(data)
		},
		"fromJson": fromJSON,
		"include": func(name string, data interface{}) (string, error) {
			if r.depth > 1000 {
				return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
			}
			r.depth++
			defer func() { r.depth-- }()
			var buf strings.Builder
			if err := r.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
				return "", err
			}
			return buf.String(), nil
		},
		"tpl": func(text string, vals interface{}) (string, error) {
			clone, err := r.tmpl.Clone()
			if err != nil {
				return "", err
			}
			name := "tpl"
			if m, ok := vals.(map[string]interface{}); ok {
				if ti, ok := m["Template"].(TemplateInfo); ok {
					name = ti.Name
				}
			}
			t, err := clone.New(name).Parse(text)
			if err != nil {
				return "", fmt.Errorf("cannot parse template %q: %w", text, err)
			}
			var buf strings.Builder
			if err := t.Execute(&buf, vals); err != nil {
				return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
			}
			return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
		},
		"required": func(msg string, v interface{}) (interface{}, error) {
			if v == nil {
				return v, errors.New(msg)
			}
			if s, ok := v.(string); ok && s == "" {
				return v, errors.New(msg)
			}
			return v, nil
		},
		"fail": func(msg string) (string, error) { return "", errors.New(msg) },
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

type manifest struct {
	Source  string `json:"source"`
	Content string `json:"content"`
}

type result struct {
	Manifests []manifest `json:"manifests"`
	Notes     string     `json:"notes"`
}

func render(c *chart, userValues []map[string]interface{}, release Release, strict bool) (*result, error) {
	vals := c.values
	for _, u := range userValues {
		vals = coalesce(vals, u)
	}
	r := &renderer{}
	r.tmpl = template.New("gotpl")
	if strict {
		r.tmpl.Option("missingkey=error")
	} else {
		r.tmpl.Option("missingkey=zero")
	}
	r.tmpl.Funcs(r.funcMap())

	names := make([]string, 0, len(c.templates))
	for rel := range c.templates {
		names = append(names, rel)
	}
	sort.Strings(names)
	for _, rel := range names {
		full := c.meta.Name + "/" + rel
		if _, err := r.tmpl.New(full).Parse(c.templates[rel]); err != nil {
			return nil, fmt.Errorf("parse error: %w", err)
		}
	}

	caps := Capabilities{
		KubeVersion: KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30", GitVersion: "v1.30.0"},
		APIVersions: VersionSet{"v1", "apps/v1", "autoscaling/v2", "policy/v1", "batch/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1"},
		HelmVersion: map[string]string{"version": "v3-compatible (helm-render)"},
	}
	out := &result{Manifests: []manifest{}}
	for _, rel := range names {
		base := path.Base(rel)
		if strings.HasPrefix(base, "_") {
			continue
		}
		full := c.meta.Name + "/" + rel
		top := map[string]interface{}{
			"Values":       vals,
			"Release":      release,
			"Chart":        c.meta,
			"Files":        c.files,
			"Capabilities": caps,
			"Template":     TemplateInfo{Name: full, BasePath: c.meta.Name + "/templates"},
		}
		var buf strings.Builder
		if err := r.tmpl.ExecuteTemplate(&buf, full, top); err != nil {
			return nil, err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			out.Notes = text
			continue
		}
		if !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if err := checkManifest(full, text); err != nil {
			return nil, err
		}
		out.Manifests = append(out.Manifests, manifest{Source: full, Content: text})
	}
	return out, nil
}

// checkManifest parses each document of a rendered template the way helm template does
// and requires the fields every Kubernetes object has.
func checkManifest(source, text string) error {
	dec := yaml.NewDecoder(strings.NewReader(text))
	for i := 0; ; i++ {
		var doc interface{}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("YAML parse error on %s (document %d): %w", source, i+1, err)
		}
		if doc == nil {
			continue
		}
		m, ok := doc.(map[string]interface{})
		if !ok {
			return fmt.Errorf("%s (document %d): not a YAML map", source, i+1)
		}
		for _, k := range []string{"apiVersion", "kind"} {
			if s, _ := m[k].(string); s == "" {
				return fmt.Errorf("%s (document %d): %s not set", source, i+1, k)
			}
		}
		md, _ := m["metadata"].(map[string]interface{})
		if name, _ := md["name"].(string); name == "" {
			return fmt.Errorf("%s (document %d): metadata.name not set", source, i+1)
		}
	}
}

// ---- command line ----------------------------------------------------------------------

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles multiFlag
	release := flag.String("release", "cepheus", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	strict := flag.Bool("strict", false, "fail on missing map keys (like helm lint --strict)")
	output := flag.String("o", "yaml", "output: yaml (like helm template) or json ({manifests:[{source,content}],notes})")
	flag.Var(&valueFiles, "f", "values file coalesced over the chart's values.yaml (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: helm-render [flags] CHART_DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), valueFiles, Release{
		Name: *release, Namespace: *namespace, IsInstall: true, Revision: 1, Service: "Helm",
	}, *strict, *output); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, valueFiles []string, release Release, strict bool, output string) error {
	c, err := loadChart(dir)
	if err != nil {
		return err
	}
	var user []map[string]interface{}
	for _, f := range valueFiles {
		m, err := readValuesFile(f)
		if err != nil {
			return err
		}
		user = append(user, m)
	}
	res, err := render(c, user, release, strict)
	if err != nil {
		return err
	}
	switch output {
	case "json":
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "yaml":
		for _, m := range res.Manifests {
			fmt.Printf("---\n# Source: %s\n%s\n", m.Source, strings.Trim(m.Content, "\n"))
		}
		return nil
	default:
		return fmt.Errorf("unknown output %q", output)
	}
}
