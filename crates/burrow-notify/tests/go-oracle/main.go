// The oracle for burrow-rs's Go notifier templates: renders templates with Go's own
// text/template, Burrow 1.9.5's template data and helper functions, and writes what each
// renders (or that it fails) for every scenario.
//
// The types and helpers below are copied from Burrow (core/protocol/evaluator.go,
// core/protocol/storage.go, core/internal/notifier/helpers.go; Copyright 2017 LinkedIn Corp.,
// Apache License 2.0), with two additions for reading the scenarios: StatusConstant and Lag
// read themselves from JSON. The data struct is Burrow's executeTemplate struct plus `Id`
// (burrow-rs answers `.Id` as `.ID`; Burrow's own default-http-delete.tmpl uses it).
//
// usage: TZ=UTC go run main.go SCENARIOS.json OUT_DIR TEMPLATE_DIR...
// Writes OUT_DIR/<template file>__<scenario>.out with the rendered bytes, or .err with the error.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"
)

type StatusConstant int

const (
	StatusNotFound StatusConstant = 0
	StatusOK       StatusConstant = 1
	StatusWarning  StatusConstant = 2
	StatusError    StatusConstant = 3
	StatusStop     StatusConstant = 4
	StatusStall    StatusConstant = 5
	StatusRewind   StatusConstant = 6
)

var statusStrings = [...]string{"NOTFOUND", "OK", "WARN", "ERR", "STOP", "STALL", "REWIND"}

func (c StatusConstant) String() string {
	if (c >= 0) && (c < StatusConstant(len(statusStrings))) {
		return statusStrings[c]
	}
	return "UNKNOWN"
}

func (c StatusConstant) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

func (c StatusConstant) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.String())
}

// UnmarshalJSON reads a status name (scenarios only).
func (c *StatusConstant) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	for i, s := range statusStrings {
		if s == name {
			*c = StatusConstant(i)
			return nil
		}
	}
	return fmt.Errorf("unknown status %q", name)
}

type Lag struct {
	Value uint64
}

func (lag Lag) MarshalJSON() ([]byte, error) {
	return json.Marshal(lag.Value)
}

func (lag *Lag) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, &lag.Value)
}

type ConsumerOffset struct {
	Offset            int64 `json:"offset"`
	Order             int64 `json:"-"`
	Timestamp         int64 `json:"timestamp"`
	ObservedTimestamp int64 `json:"observedAt"`
	Lag               *Lag  `json:"lag"`
}

type PartitionStatus struct {
	Topic      string          `json:"topic"`
	Partition  int32           `json:"partition"`
	Owner      string          `json:"owner"`
	ClientID   string          `json:"client_id"`
	Status     StatusConstant  `json:"status"`
	Start      *ConsumerOffset `json:"start"`
	End        *ConsumerOffset `json:"end"`
	CurrentLag uint64          `json:"current_lag"`
	Complete   float32         `json:"complete"`
}

type ConsumerGroupStatus struct {
	Cluster         string             `json:"cluster"`
	Group           string             `json:"group"`
	Status          StatusConstant     `json:"status"`
	Complete        float32            `json:"complete"`
	Partitions      []*PartitionStatus `json:"partitions"`
	TotalPartitions int                `json:"partition_count"`
	Maxlag          *PartitionStatus   `json:"maxlag"`
	TotalLag        uint64             `json:"totallag"`
}

// Burrow's helperFunctionMap.
var helperFunctionMap = template.FuncMap{
	"jsonencoder":     templateJSONEncoder,
	"topicsbystatus":  classifyTopicsByStatus,
	"partitioncounts": templateCountPartitions,
	"add":             templateAdd,
	"minus":           templateMinus,
	"multiply":        templateMultiply,
	"divide":          templateDivide,
	"maxlag":          maxLagHelper,
	"formattimestamp": formatTimestamp,
}

func templateJSONEncoder(encodeMe interface{}) string {
	jsonStr, _ := json.Marshal(encodeMe)
	return string(jsonStr)
}

func classifyTopicsByStatus(partitions []*PartitionStatus) map[string][]string {
	tmpMap := make(map[string]map[string]bool)
	for _, partition := range partitions {
		if _, ok := tmpMap[partition.Status.String()]; !ok {
			tmpMap[partition.Status.String()] = make(map[string]bool)
		}
		tmpMap[partition.Status.String()][partition.Topic] = true
	}
	rv := make(map[string][]string)
	for status, topicMap := range tmpMap {
		rv[status] = make([]string, 0, len(topicMap))
		for topic := range topicMap {
			rv[status] = append(rv[status], topic)
		}
		// Not in Burrow: its lists follow map order, which Go randomizes; sorted here so the
		// oracle is repeatable (the scenarios put topics in sorted order).
		sort.Strings(rv[status])
	}
	return rv
}

func templateCountPartitions(partitions []*PartitionStatus) map[string]int {
	rv := map[string]int{"warn": 0, "stop": 0, "stall": 0, "rewind": 0, "unknown": 0}
	for _, partition := range partitions {
		switch partition.Status {
		case StatusOK:
		case StatusWarning:
			rv["warn"]++
		case StatusStop:
			rv["stop"]++
		case StatusStall:
			rv["stall"]++
		case StatusRewind:
			rv["rewind"]++
		default:
			rv["unknown"]++
		}
	}
	return rv
}

func templateAdd(a, b int) int      { return a + b }
func templateMinus(a, b int) int    { return a - b }
func templateMultiply(a, b int) int { return a * b }
func templateDivide(a, b int) int   { return a / b }

func maxLagHelper(a *PartitionStatus) uint64 {
	if a == nil {
		return 0
	}
	return a.CurrentLag
}

func formatTimestamp(timestamp int64, formatString string) string {
	return time.Unix(0, timestamp*int64(time.Millisecond)).Format(formatString)
}

// One notification of the scenarios file.
type scenario struct {
	Name    string              `json:"name"`
	Cluster string              `json:"cluster"`
	Group   string              `json:"group"`
	ID      string              `json:"id"`
	StartMs int64               `json:"start_ms"`
	Extras  map[string]string   `json:"extras"`
	Result  ConsumerGroupStatus `json:"result"`
}

type data struct {
	Cluster string
	Group   string
	ID      string
	Id      string `json:"-"`
	Start   time.Time
	Extras  map[string]string
	Result  ConsumerGroupStatus
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: main SCENARIOS.json OUT_DIR TEMPLATE_DIR...")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	check(err)
	var scenarios []scenario
	check(json.Unmarshal(raw, &scenarios))
	out := os.Args[2]
	check(os.MkdirAll(out, 0o755))
	for _, dir := range os.Args[3:] {
		files, err := filepath.Glob(filepath.Join(dir, "*.tmpl"))
		check(err)
		sort.Strings(files)
		for _, file := range files {
			text, err := os.ReadFile(file)
			check(err)
			for _, s := range scenarios {
				render(out, filepath.Base(file), string(text), s)
			}
		}
	}
}

func render(out, name, text string, s scenario) {
	base := filepath.Join(out, strings.TrimSuffix(name, ".tmpl")+"__"+s.Name)
	tmpl, err := template.New(name).Funcs(helperFunctionMap).Parse(text)
	if err != nil {
		write(base+".err", "parse: "+err.Error()+"\n")
		return
	}
	start := time.Time{}
	if s.StartMs != 0 {
		start = time.UnixMilli(s.StartMs)
	}
	var b strings.Builder
	err = tmpl.Execute(&b, data{
		Cluster: s.Cluster, Group: s.Group, ID: s.ID, Id: s.ID, Start: start,
		Extras: s.Extras, Result: s.Result,
	})
	if err != nil {
		write(base+".err", "execute: "+err.Error()+"\n")
		return
	}
	write(base+".out", b.String())
}

func write(path, text string) {
	check(os.WriteFile(path, []byte(text), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
