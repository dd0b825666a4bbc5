// chart-render renders a Helm chart's templates the way `helm template` does, with the same
// engine — Go's text/template, the sprig function library, and Helm's own include, tpl,
// required, toYaml, fromYaml and toJson — for tests on machines where Helm itself cannot be
// installed. It is not Helm: no schema validation (the test does that with Ajv), no
// Capabilities, lookup returns nothing, no subcharts or hooks.
//
//	chart-render CHART_DIR RELEASE NAMESPACE [VALUES_FILE...]
//
// prints {"manifests": {"<chart>/templates/<file>": "<rendered>"}, "notes": "<NOTES.txt>"}.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

type chartMeta struct {
	APIVersion  string `json:"apiVersion"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion"`
	Description string `json:"description"`
	Type        string `json:"type"`
	KubeVersion string `json:"kubeVersion"`
}

type release struct {
	Name, Namespace, Service string
	IsInstall, IsUpgrade     bool
	Revision                 int
}

// files is .Files: the chart's non-template files by path.
type files map[string][]byte

func (f files) Get(name string) string { return string(f[name]) }

type tmplInfo struct{ Name, BasePath string }

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "chart-render: "+format+"\n", a...)
	os.Exit(1)
}

func readYAML(path string) map[string]interface{} {
	raw, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(raw, &out); err != nil {
		die("%s: %v", path, err)
	}
	return out
}

// coalesce merges user values over the chart's as Helm does: maps merge, anything else
// replaces, null deletes.
func coalesce(base, over map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		bm, bok := out[k].(map[string]interface{})
		om, ook := v.(map[string]interface{})
		if bok && ook {
			out[k] = coalesce(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

func main() {
	if len(os.Args) < 4 {
		die("usage: chart-render CHART_DIR RELEASE NAMESPACE [VALUES_FILE...]")
	}
	dir, relName, ns := os.Args[1], os.Args[2], os.Args[3]
	var meta chartMeta
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		die("%v", err)
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		die("Chart.yaml: %v", err)
	}
	values := readYAML(filepath.Join(dir, "values.yaml"))
	for _, f := range os.Args[4:] {
		values = coalesce(values, readYAML(f))
	}

	chartFiles := files{}
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !strings.HasPrefix(rel, "templates/") {
			b, _ := os.ReadFile(p)
			chartFiles[filepath.ToSlash(rel)] = b
		}
		return nil
	})

	basePath := meta.Name + "/templates"
	root := template.New("gotpl")
	funcs := sprig.TxtFuncMap()
	// Helm removes these: a chart must not read the renderer's environment.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includedNames := map[string]int{}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		if includedNames[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		includedNames[name]++
		defer func() { includedNames[name]-- }()
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	funcs["toYaml"] = func(v interface{}) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(b), "\n")
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	funcs["lookup"] = func(...interface{}) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	root.Funcs(funcs).Option("missingkey=zero")

	entries, err := os.ReadDir(filepath.Join(dir, "templates"))
	if err != nil {
		die("%v", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := basePath + "/" + e.Name()
		text, _ := os.ReadFile(filepath.Join(dir, "templates", e.Name()))
		if _, err := root.New(name).Parse(string(text)); err != nil {
			die("%v", err)
		}
		names = append(names, name)
	}
	sort.Strings(names)

	manifests := map[string]string{}
	notes := ""
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]interface{}{
			"Values":   values,
			"Release":  release{Name: relName, Namespace: ns, Service: "Helm", IsInstall: true, Revision: 1},
			"Chart":    meta,
			"Files":    chartFiles,
			"Template": tmplInfo{Name: name, BasePath: basePath},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			die("%v", err)
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notes = out
		} else {
			manifests[name] = out
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]interface{}{"manifests": manifests, "notes": notes}); err != nil {
		die("%v", err)
	}
}
