package httpapi

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the OpenAPI 3 description of the native API. A test keeps
// it in step with the route table.
//
//go:embed openapi.json
var openapiJSON []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openapiJSON)
}
