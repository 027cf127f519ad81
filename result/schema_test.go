package result_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/invopop/jsonschema"

	"github.com/muxbench/muxbench/result"
)

var update = flag.Bool("update", false, "rewrite schema.json from the Go types")

// schemaFile is the published JSON Schema of a result file, for jq and
// pandas users and for validators; go generate rewrites it.
const schemaFile = "schema.json"

func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		BaseSchemaID: "https://github.com/muxbench/muxbench/result",
		// Readers must not choke on fields a later schema version adds.
		AllowAdditionalProperties: true,
	}
	// The doc comments become descriptions: units and meanings travel
	// with the schema.
	if err := r.AddGoComments("github.com/muxbench/muxbench/result", "./", jsonschema.WithFullComment()); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&result.Result{})
	s.Title = "muxbench result " + result.Schema
	// A reader checks this first: a file of another version is refused.
	if p, ok := s.Definitions["Result"].Properties.Get("schema"); ok {
		p.Const = result.Schema
	} else {
		t.Fatal("Result has no schema field")
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

func TestSchemaFile(t *testing.T) {
	want := generateSchema(t)
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v: run go generate ./result", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("result/%s is stale, the Go types have changed: run go generate ./result", schemaFile)
	}
}
