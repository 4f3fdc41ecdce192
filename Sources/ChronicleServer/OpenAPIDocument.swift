/// The OpenAPI 3.1 document served at `/openapi.json`: the contract the tests check.
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "Chronicle",
  "version": "1.0.0",
  "description": "Event-sourcing database: append events to streams, read streams and the global log, follow the log live. Errors are application/problem+json (RFC 9457) with a stable `type` per code (`urn:chronicle:problem:<code>`). Every response carries X-Correlation-ID."
 },
 "security": [
  {
   "bearer": []
  }
 ],
 "paths": {
  "/": {
   "get": {
    "summary": "Service index",
    "security": [],
    "responses": {
     "200": {
      "description": "Links to the API.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/health/live": {
   "get": {
    "summary": "Liveness",
    "security": [],
    "responses": {
     "200": {
      "description": "The process is up.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/health/ready": {
   "get": {
    "summary": "Readiness: the store can be read",
    "security": [],
    "responses": {
     "200": {
      "description": "Ready; includes the head position.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "status": {
           "const": "ready"
          },
          "position": {
           "type": "integer"
          }
         }
        }
       }
      }
     },
     "503": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "summary": "This document",
    "security": [],
    "responses": {
     "200": {
      "description": "OpenAPI 3.1 document.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "summary": "Prometheus metrics (role read)",
    "responses": {
     "200": {
      "description": "Prometheus text exposition.",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/streams/{stream}": {
   "parameters": [
    {
     "name": "stream",
     "in": "path",
     "required": true,
     "description": "Stream name, `category-id` (percent-encode reserved characters).",
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 200
     }
    }
   ],
   "post": {
    "summary": "Append events to a stream (role write)",
    "parameters": [
     {
      "name": "If-Match",
      "in": "header",
      "required": false,
      "description": "The stream's ETag (its revision in quotes) to expect, or `*` for 'the stream exists'.",
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "oneOf": [
         {
          "$ref": "#/components/schemas/EventInput"
         },
         {
          "type": "array",
          "items": {
           "$ref": "#/components/schemas/EventInput"
          }
         },
         {
          "type": "object",
          "required": [
           "events"
          ],
          "additionalProperties": false,
          "properties": {
           "expectedRevision": {
            "$ref": "#/components/schemas/ExpectedRevision"
           },
           "events": {
            "type": "array",
            "items": {
             "$ref": "#/components/schemas/EventInput"
            }
           }
          }
         }
        ]
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Appended. ETag is the stream's new revision.",
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        }
       },
       "Location": {
        "schema": {
         "type": "string"
        }
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/StreamResult"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     },
     "413": {
      "$ref": "#/components/responses/Problem"
     },
     "415": {
      "$ref": "#/components/responses/Problem"
     },
     "503": {
      "$ref": "#/components/responses/Problem"
     },
     "507": {
      "$ref": "#/components/responses/Problem"
     }
    }
   },
   "get": {
    "summary": "Read a stream (role read)",
    "parameters": [
     {
      "name": "from",
      "in": "query",
      "required": false,
      "description": "Revision to start at (inclusive), or `end`.",
      "schema": {
       "oneOf": [
        {
         "type": "integer",
         "minimum": 0
        },
        {
         "const": "end"
        }
       ]
      }
     },
     {
      "name": "direction",
      "in": "query",
      "required": false,
      "description": "forwards (default) or backwards.",
      "schema": {
       "enum": [
        "forwards",
        "backwards"
       ]
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Events per page, 1–1000 (default 100).",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000
      }
     },
     {
      "name": "If-None-Match",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page of events; `next` is the revision to continue from, or null.",
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "stream": {
           "type": "string"
          },
          "revision": {
           "type": "integer"
          },
          "events": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Event"
           }
          },
          "next": {
           "type": [
            "integer",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "304": {
      "description": "Not modified since the ETag in If-None-Match."
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     }
    }
   },
   "delete": {
    "summary": "Delete a stream: soft (role write) or hard (role admin)",
    "parameters": [
     {
      "name": "mode",
      "in": "query",
      "required": false,
      "description": "soft (default): hidden, can be written again; hard: events purged, tombstoned forever.",
      "schema": {
       "enum": [
        "soft",
        "hard"
       ]
      }
     },
     {
      "name": "If-Match",
      "in": "header",
      "required": false,
      "description": "The stream's ETag (its revision in quotes) to expect, or `*` for 'the stream exists'.",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "Deleted.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "stream": {
           "type": "string"
          },
          "mode": {
           "type": "string"
          },
          "revision": {
           "type": "integer"
          },
          "position": {
           "type": "integer"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/append": {
   "post": {
    "summary": "Atomic append to several streams (role write)",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "streams"
        ],
        "additionalProperties": false,
        "properties": {
         "streams": {
          "type": "array",
          "items": {
           "type": "object",
           "required": [
            "stream",
            "events"
           ],
           "additionalProperties": false,
           "properties": {
            "stream": {
             "type": "string"
            },
            "expectedRevision": {
             "$ref": "#/components/schemas/ExpectedRevision"
            },
            "events": {
             "type": "array",
             "items": {
              "$ref": "#/components/schemas/EventInput"
             }
            }
           }
          }
         }
        }
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "All appended.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "position": {
           "type": "integer"
          },
          "streams": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/StreamResult"
           }
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     },
     "413": {
      "$ref": "#/components/responses/Problem"
     },
     "415": {
      "$ref": "#/components/responses/Problem"
     },
     "503": {
      "$ref": "#/components/responses/Problem"
     },
     "507": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/log": {
   "get": {
    "summary": "Read the global log (role read)",
    "parameters": [
     {
      "name": "after",
      "in": "query",
      "required": false,
      "description": "Start after this position, or `end` for the current head.",
      "schema": {
       "oneOf": [
        {
         "type": "integer",
         "minimum": 0
        },
        {
         "const": "end"
        }
       ]
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Events per page, 1–1000 (default 100).",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000
      }
     },
     {
      "name": "type",
      "in": "query",
      "required": false,
      "description": "Only these event types (repeat or comma-separate).",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "explode": true
     },
     {
      "name": "category",
      "in": "query",
      "required": false,
      "description": "Only streams of these categories (repeat or comma-separate).",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "explode": true
     },
     {
      "name": "correlation",
      "in": "query",
      "required": false,
      "description": "Only events whose metadata correlationId is this (the events caused by one request).",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page; pass `next` as `after` to continue.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "events": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Event"
           }
          },
          "next": {
           "type": "integer"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/subscribe": {
   "get": {
    "summary": "Follow the log as Server-Sent Events (role read)",
    "description": "Catch-up from `after` (or Last-Event-ID), then live. Each event: `id: <position>`, `event: <type>`, `data: <Event JSON>`. Idle: `: heartbeat` comments. On server shutdown: `event: shutdown` with `resumeAfter`.",
    "parameters": [
     {
      "name": "after",
      "in": "query",
      "required": false,
      "description": "Start after this position, or `end` for the current head.",
      "schema": {
       "oneOf": [
        {
         "type": "integer",
         "minimum": 0
        },
        {
         "const": "end"
        }
       ]
      }
     },
     {
      "name": "type",
      "in": "query",
      "required": false,
      "description": "Only these event types (repeat or comma-separate).",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "explode": true
     },
     {
      "name": "category",
      "in": "query",
      "required": false,
      "description": "Only streams of these categories (repeat or comma-separate).",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "explode": true
     },
     {
      "name": "Last-Event-ID",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "access_token",
      "in": "query",
      "required": false,
      "description": "API key, for clients that cannot send headers.",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "correlation",
      "in": "query",
      "required": false,
      "description": "Only events whose metadata correlationId is this (the events caused by one request).",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "An endless event stream.",
      "content": {
       "text/event-stream": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/ws": {
   "get": {
    "summary": "Follow the log over WebSocket (role read)",
    "description": "Upgrade to WebSocket. Messages: `{\"type\":\"event\",\"event\":<Event>}` and `{\"type\":\"heartbeat\",\"position\":N}`. Reconnect with `after=<last position>` to resume. On shutdown the server closes with code 1001. A refused upgrade (bad key, bad query) answers 400.",
    "parameters": [
     {
      "name": "after",
      "in": "query",
      "required": false,
      "description": "Start after this position, or `end` for the current head.",
      "schema": {
       "oneOf": [
        {
         "type": "integer",
         "minimum": 0
        },
        {
         "const": "end"
        }
       ]
      }
     },
     {
      "name": "type",
      "in": "query",
      "required": false,
      "description": "Only these event types (repeat or comma-separate).",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "explode": true
     },
     {
      "name": "category",
      "in": "query",
      "required": false,
      "description": "Only streams of these categories (repeat or comma-separate).",
      "schema": {
       "type": "array",
       "items": {
        "type": "string"
       }
      },
      "explode": true
     },
     {
      "name": "access_token",
      "in": "query",
      "required": false,
      "description": "API key, for clients that cannot send headers.",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "correlation",
      "in": "query",
      "required": false,
      "description": "Only events whose metadata correlationId is this (the events caused by one request).",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "101": {
      "description": "Switching to WebSocket."
     },
     "400": {
      "description": "Upgrade refused."
     }
    }
   }
  },
  "/v1/entities/{entity}/{id}": {
   "parameters": [
    {
     "name": "entity",
     "in": "path",
     "required": true,
     "description": "The entity kind (the stream category), as declared in the schema.",
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "id",
     "in": "path",
     "required": true,
     "description": "The entity id (the stream name after the first '-').",
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "An entity's current state, or its state at a version or instant (role read)",
    "description": "Documents are kept inline: a GET after a 201 sees the write. `after`+`wait` waits (bounded) until the log reaches a position. `version`/`at` fold the entity's events up to that point.",
    "parameters": [
     {
      "name": "version",
      "in": "query",
      "required": false,
      "description": "State after this version (stream revision).",
      "schema": {
       "type": "integer",
       "minimum": 0
      }
     },
     {
      "name": "at",
      "in": "query",
      "required": false,
      "description": "State at this RFC 3339 instant.",
      "schema": {
       "type": "string",
       "format": "date-time"
      }
     },
     {
      "name": "includeDeleted",
      "in": "query",
      "required": false,
      "description": "Show a soft-deleted entity's last state.",
      "schema": {
       "type": "boolean"
      }
     },
     {
      "name": "after",
      "in": "query",
      "required": false,
      "description": "Wait until the log reaches this position (read your own write).",
      "schema": {
       "type": "integer",
       "minimum": 0
      }
     },
     {
      "name": "wait",
      "in": "query",
      "required": false,
      "description": "How long to wait for `after`: 2s, 500ms (default 5s, at most 30s).",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "If-None-Match",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "The document; ETag is its version.",
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Document"
        }
       }
      }
     },
     "304": {
      "description": "Not modified."
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     },
     "503": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/entities/{entity}/{id}/history": {
   "parameters": [
    {
     "name": "entity",
     "in": "path",
     "required": true,
     "description": "The entity kind (the stream category), as declared in the schema.",
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "id",
     "in": "path",
     "required": true,
     "description": "The entity id (the stream name after the first '-').",
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "Each event of the entity with the RFC 6902 JSON Patch it caused (role read)",
    "responses": {
     "200": {
      "description": "The history, oldest first.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "entity": {
           "type": "string"
          },
          "id": {
           "type": "string"
          },
          "history": {
           "type": "array",
           "items": {
            "type": "object",
            "properties": {
             "version": {
              "type": "integer"
             },
             "position": {
              "type": "integer"
             },
             "type": {
              "type": "string"
             },
             "recordedAt": {
              "type": "string"
             },
             "deleted": {
              "type": "boolean"
             },
             "patch": {
              "type": "array",
              "items": {
               "type": "object"
              }
             }
            }
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/entities/{entity}/{id}/diff": {
   "parameters": [
    {
     "name": "entity",
     "in": "path",
     "required": true,
     "description": "The entity kind (the stream category), as declared in the schema.",
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "id",
     "in": "path",
     "required": true,
     "description": "The entity id (the stream name after the first '-').",
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "The JSON Patch between two versions or instants of an entity (role read)",
    "parameters": [
     {
      "name": "from",
      "in": "query",
      "required": true,
      "description": "A version or RFC 3339 instant.",
      "schema": {
       "oneOf": [
        {
         "type": "integer",
         "minimum": 0
        },
        {
         "type": "string",
         "format": "date-time"
        }
       ]
      }
     },
     {
      "name": "to",
      "in": "query",
      "required": true,
      "description": "A version or RFC 3339 instant.",
      "schema": {
       "oneOf": [
        {
         "type": "integer",
         "minimum": 0
        },
        {
         "type": "string",
         "format": "date-time"
        }
       ]
      }
     }
    ],
    "responses": {
     "200": {
      "description": "The patch that turns `from` into `to`.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "from": {
           "type": "integer"
          },
          "to": {
           "type": "integer"
          },
          "patch": {
           "type": "array",
           "items": {
            "type": "object"
           }
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/entities/{entity}": {
   "parameters": [
    {
     "name": "entity",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "List an entity's documents: filters, sort, cursor paging (role read)",
    "description": "Filters on top-level fields: `field=value` or `field[op]=value` with op eq, ne, gt, gte, lt, lte (values are JSON scalars, else strings). Missing and null fields sort first, then numbers, then strings; ties by id.",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Documents per page, 1–1000 (default 100).",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "description": "The `next` of the previous page.",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "sort",
      "in": "query",
      "required": false,
      "description": "A field to sort by; prefix with - for descending. Default: id.",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "includeDeleted",
      "in": "query",
      "required": false,
      "description": "List soft-deleted documents too.",
      "schema": {
       "type": "boolean"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "entity": {
           "type": "string"
          },
          "documents": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Document"
           }
          },
          "next": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/projections": {
   "get": {
    "summary": "Projections and their status (role read)",
    "responses": {
     "200": {
      "description": "Every projection.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "projections": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/ProjectionStatus"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/projections/{name}": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "One projection's status (role read)",
    "responses": {
     "200": {
      "description": "Its status.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ProjectionStatus"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/projections/{name}/rebuild": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "post": {
    "summary": "Rebuild a projection's documents from the events (role admin)",
    "description": "Folds the log into a fresh table while appends and reads go on (reads see the old documents), then applies the events appended meanwhile and swaps the tables in one short transaction. Progress shows in GET /v1/projections/{name} while it runs.",
    "responses": {
     "200": {
      "description": "Rebuilt.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "name": {
           "type": "string"
          },
          "replayedEvents": {
           "type": "integer"
          },
          "durationSeconds": {
           "type": "number"
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/correlations/{id}": {
   "parameters": [
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "Every event of one correlation, in order (role read)",
    "description": "Each request gets a correlation id (X-Correlation-ID if sent, else a new one, echoed in the response); its events carry it as metadata correlationId (and causationId unless set).",
    "parameters": [
     {
      "name": "after",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page of the correlation's events.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "correlationId": {
           "type": "string"
          },
          "events": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Event"
           }
          },
          "next": {
           "type": "integer"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/events/{type}": {
   "parameters": [
    {
     "name": "type",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "post": {
    "summary": "Declarative write: an event of a schema type (role write)",
    "description": "The schema maps the type to its entity; the entity id is in the payload's id field (generated for a create without one). The payload is checked against the type's JSON Schema (422 listing every violation); `require:` preconditions and `unique:` fields are checked in the append's transaction (403/409/422 as the schema says). If-Match takes the entity's version.",
    "parameters": [
     {
      "name": "If-Match",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Appended.",
      "headers": {
       "Location": {
        "schema": {
         "type": "string"
        }
       },
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      },
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "entity": {
           "type": "string"
          },
          "id": {
           "type": "string"
          },
          "stream": {
           "type": "string"
          },
          "revision": {
           "type": "integer"
          },
          "position": {
           "type": "integer"
          },
          "correlationId": {
           "type": "string"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "410": {
      "$ref": "#/components/responses/Problem"
     },
     "413": {
      "$ref": "#/components/responses/Problem"
     },
     "415": {
      "$ref": "#/components/responses/Problem"
     },
     "422": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/reactors": {
   "get": {
    "summary": "Reactors and their status (role read)",
    "responses": {
     "200": {
      "description": "Each reactor: checkpoint, lag in events and seconds, in flight, deliveries, failures, parked count.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "reactors": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/ReactorStatus"
           }
          }
         }
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/reactors/{name}": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "One reactor's status (role read)",
    "responses": {
     "200": {
      "description": "Checkpoint, lag in events and seconds, in flight, deliveries, failures, parked count.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ReactorStatus"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/reactors/{name}/parked": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    }
   ],
   "get": {
    "summary": "A reactor's parked events (role read)",
    "responses": {
     "200": {
      "description": "The parked events, oldest first.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/reactors/{name}/parked/{id}/skip": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "format": "uuid"
     }
    }
   ],
   "post": {
    "summary": "Skip a parked event: remove it without delivering (role admin)",
    "responses": {
     "200": {
      "description": "Skipped.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/v1/reactors/{name}/parked/{id}/retry": {
   "parameters": [
    {
     "name": "name",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     }
    },
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "format": "uuid"
     }
    }
   ],
   "post": {
    "summary": "Retry a parked event now (role admin)",
    "description": "Delivers it once more; on success its outcomes are appended, on failure it is parked again with one more attempt.",
    "responses": {
     "200": {
      "description": "Retried; `delivered` says how it went.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "reactor": {
           "type": "string"
          },
          "retried": {
           "type": "string"
          },
          "delivered": {
           "type": "boolean"
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     },
     "403": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key with role read, write or admin. Without configured keys the server is open and listens on loopback only."
   }
  },
  "schemas": {
   "ExpectedRevision": {
    "oneOf": [
     {
      "enum": [
       "any",
       "noStream",
       "streamExists"
      ]
     },
     {
      "type": "integer",
      "minimum": -1
     }
    ],
    "description": "-1 means noStream."
   },
   "EventInput": {
    "type": "object",
    "required": [
     "type"
    ],
    "additionalProperties": false,
    "properties": {
     "id": {
      "type": "string",
      "format": "uuid",
      "description": "Supply it to make retries idempotent."
     },
     "type": {
      "type": "string",
      "minLength": 1,
      "maxLength": 200
     },
     "data": {
      "type": "object"
     },
     "metadata": {
      "type": "object"
     }
    }
   },
   "Event": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string",
      "format": "uuid"
     },
     "stream": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "revision": {
      "type": "integer"
     },
     "position": {
      "type": "integer"
     },
     "recordedAt": {
      "type": "string",
      "format": "date-time"
     },
     "data": {
      "type": "object"
     },
     "metadata": {
      "type": "object"
     },
     "hash": {
      "type": "string"
     }
    }
   },
   "StreamResult": {
    "type": "object",
    "properties": {
     "stream": {
      "type": "string"
     },
     "firstRevision": {
      "type": "integer"
     },
     "lastRevision": {
      "type": "integer"
     },
     "firstPosition": {
      "type": "integer"
     },
     "lastPosition": {
      "type": "integer"
     }
    }
   },
   "Problem": {
    "type": "object",
    "required": [
     "type",
     "title",
     "status",
     "detail",
     "code"
    ],
    "properties": {
     "type": {
      "type": "string",
      "description": "urn:chronicle:problem:<code>"
     },
     "title": {
      "type": "string"
     },
     "status": {
      "type": "integer"
     },
     "detail": {
      "type": "string"
     },
     "code": {
      "type": "string",
      "enum": [
       "invalid-input",
       "wrong-expected-revision",
       "stream-not-found",
       "stream-deleted",
       "idempotency-conflict",
       "payload-too-large",
       "storage-full",
       "storage-failure",
       "incompatible-storage",
       "unauthorized",
       "forbidden",
       "route-not-found",
       "method-not-allowed",
       "unsupported-media-type",
       "not-ready",
       "internal-error",
       "no-schema",
       "entity-not-found",
       "entity-deleted",
       "version-not-found",
       "not-caught-up",
       "projection-not-found",
       "rebuild-running",
       "rule-violated",
       "invalid-payload",
       "unknown-event-type",
       "reactor-not-found",
       "parked-event-not-found"
      ]
     },
     "stream": {
      "type": "string"
     },
     "expectedRevision": {
      "type": "string"
     },
     "actualRevision": {
      "type": [
       "integer",
       "null"
      ]
     },
     "pointer": {
      "type": "string"
     },
     "violations": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "pointer": {
         "type": "string"
        },
        "message": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "Document": {
    "type": "object",
    "properties": {
     "entity": {
      "type": "string"
     },
     "id": {
      "type": "string"
     },
     "version": {
      "type": "integer"
     },
     "position": {
      "type": "integer"
     },
     "updatedAt": {
      "type": "string",
      "format": "date-time"
     },
     "deleted": {
      "type": "boolean"
     },
     "state": {
      "type": "object"
     }
    }
   },
   "ProjectionStatus": {
    "type": "object",
    "properties": {
     "name": {
      "type": "string"
     },
     "lifecycle": {
      "type": "string",
      "enum": [
       "inline",
       "async",
       "live"
      ]
     },
     "definitionHash": {
      "type": "string"
     },
     "checkpoint": {
      "type": "integer"
     },
     "lag": {
      "type": "object",
      "properties": {
       "events": {
        "type": "integer"
       },
       "seconds": {
        "type": "number"
       }
      }
     },
     "rebuild": {
      "type": "object",
      "properties": {
       "running": {
        "type": "boolean"
       },
       "lastReplayedEvents": {
        "type": [
         "integer",
         "null"
        ]
       },
       "lastDurationSeconds": {
        "type": [
         "number",
         "null"
        ]
       },
       "lastFinishedAt": {
        "type": [
         "string",
         "null"
        ]
       },
       "progress": {
        "type": "object",
        "description": "While running: the log position reached and the position the rebuild goes to.",
        "properties": {
         "position": {
          "type": "integer"
         },
         "target": {
          "type": "integer"
         },
         "eventsPerSecond": {
          "type": "integer"
         },
         "etaSeconds": {
          "type": "number"
         }
        }
       }
      }
     }
    }
   },
   "ReactorStatus": {
    "type": "object",
    "required": [
     "name",
     "checkpoint",
     "lag",
     "inFlight",
     "delivered",
     "failures",
     "parked"
    ],
    "properties": {
     "name": {
      "type": "string"
     },
     "checkpoint": {
      "type": [
       "integer",
       "null"
      ],
      "description": "Position of the last event the reactor is done with; null until its runner started."
     },
     "lag": {
      "type": "object",
      "properties": {
       "events": {
        "type": "integer"
       },
       "seconds": {
        "type": "number",
        "description": "Age of the oldest event after the checkpoint (0 when caught up)."
       }
      }
     },
     "concurrency": {
      "type": "integer",
      "description": "Streams delivered at once."
     },
     "inFlight": {
      "type": "integer",
      "description": "Deliveries running now on this node (including those waiting to retry)."
     },
     "delivered": {
      "type": "integer",
      "description": "Successful deliveries by this node since it started."
     },
     "failures": {
      "type": "integer",
      "description": "Failed attempts by this node since it started."
     },
     "parked": {
      "type": "integer",
      "description": "Events parked now (durable)."
     },
     "lastDeliveredAt": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "runningOn": {
      "type": [
       "string",
       "null"
      ],
      "description": "The node (host:pid:id) whose runner holds the reactor's lease; null if none does."
     }
    }
   }
  },
  "responses": {
   "Problem": {
    "description": "An RFC 9457 problem.",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   }
  }
 }
}
"""#
}
