// generated from policy.bundle by scripts/generate_js.py, do not edit
// The bundle as JSON Schema (policy.bundle.Bundle): what sensors read.

export const BUNDLE_FORMAT = 1;
export const BUNDLE_SCHEMA = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {
    "AccountCookie": {
      "additionalProperties": false,
      "properties": {
        "name": {
          "minLength": 1,
          "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
          "title": "Name",
          "type": "string"
        },
        "pattern": {
          "title": "Pattern",
          "type": "string"
        },
        "kind": {
          "default": "account",
          "enum": [
            "account",
            "profile",
            "page"
          ],
          "title": "Kind",
          "type": "string"
        }
      },
      "required": [
        "name",
        "pattern"
      ],
      "title": "AccountCookie",
      "type": "object"
    },
    "Area": {
      "additionalProperties": false,
      "description": "A part of a platform told apart by host (a name and its subdomains) and/or path.",
      "properties": {
        "name": {
          "maxLength": 120,
          "minLength": 1,
          "title": "Name",
          "type": "string"
        },
        "domains": {
          "default": [],
          "items": {
            "maxLength": 253,
            "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
            "type": "string"
          },
          "title": "Domains",
          "type": "array"
        },
        "path": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Path"
        },
        "query": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Query"
        },
        "use": {
          "default": "app",
          "enum": [
            "app",
            "reading",
            "link",
            "work"
          ],
          "title": "Use",
          "type": "string"
        },
        "category": {
          "anyOf": [
            {
              "enum": [
                "social_network",
                "professional_network",
                "messaging",
                "video",
                "blog",
                "wiki",
                "forum"
              ],
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Category"
        },
        "opening": {
          "anyOf": [
            {
              "enum": [
                "post",
                "message",
                "reference",
                "connect"
              ],
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Opening"
        }
      },
      "required": [
        "name"
      ],
      "title": "Area",
      "type": "object"
    },
    "BundleRecipient": {
      "additionalProperties": false,
      "description": "Someone the Tell form offers, and what they receive (policy.staff_report.recipients): never\ntheir email address or who reads their reports in the service.",
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "role": {
          "anyOf": [
            {
              "const": "headteacher",
              "type": "string"
            },
            {
              "enum": [
                "line_manager",
                "senior_team"
              ],
              "type": "string"
            }
          ],
          "title": "Role"
        },
        "label": {
          "title": "Label",
          "type": "string"
        },
        "receives": {
          "items": {
            "enum": [
              "contact",
              "safeguarding",
              "press",
              "reputation",
              "misuse",
              "question",
              "comment",
              "other"
            ],
            "type": "string"
          },
          "title": "Receives",
          "type": "array"
        }
      },
      "required": [
        "id",
        "role",
        "label",
        "receives"
      ],
      "title": "BundleRecipient",
      "type": "object"
    },
    "BundleRule": {
      "additionalProperties": false,
      "description": "A rule of rules.yaml as the sensors apply it: `record` and `allow_continue` resolved, and\na relaxable warning already made a record-only rule when the settings say so.",
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "description": {
          "title": "Description",
          "type": "string"
        },
        "match": {
          "$ref": "#/$defs/RuleMatch"
        },
        "outcome": {
          "enum": [
            "allow",
            "log",
            "warn",
            "block"
          ],
          "title": "Outcome",
          "type": "string"
        },
        "clauses": {
          "items": {
            "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){0,4}$",
            "type": "string"
          },
          "title": "Clauses",
          "type": "array"
        },
        "may_apply": {
          "default": [],
          "items": {
            "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){0,4}$",
            "type": "string"
          },
          "title": "May Apply",
          "type": "array"
        },
        "may_apply_if": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "May Apply If"
        },
        "record": {
          "title": "Record",
          "type": "boolean"
        },
        "allow_continue": {
          "title": "Allow Continue",
          "type": "boolean"
        },
        "relaxable": {
          "title": "Relaxable",
          "type": "boolean"
        }
      },
      "required": [
        "id",
        "description",
        "match",
        "outcome",
        "clauses",
        "record",
        "allow_continue",
        "relaxable"
      ],
      "title": "BundleRule",
      "type": "object"
    },
    "BundleSchedule": {
      "additionalProperties": false,
      "description": "schedule.yaml as the sensors read it: working hours as `[\"08:00\", \"17:30\"]` pairs.",
      "properties": {
        "time_zone": {
          "title": "Time Zone",
          "type": "string"
        },
        "working_hours": {
          "additionalProperties": {
            "items": {
              "maxItems": 2,
              "minItems": 2,
              "prefixItems": [
                {
                  "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                  "type": "string"
                },
                {
                  "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                  "type": "string"
                }
              ],
              "type": "array"
            },
            "type": "array"
          },
          "propertyNames": {
            "enum": [
              "monday",
              "tuesday",
              "wednesday",
              "thursday",
              "friday",
              "saturday",
              "sunday"
            ]
          },
          "title": "Working Hours",
          "type": "object"
        },
        "terms": {
          "items": {
            "$ref": "#/$defs/DateRange"
          },
          "title": "Terms",
          "type": "array"
        },
        "closures": {
          "items": {
            "$ref": "#/$defs/DateRange"
          },
          "title": "Closures",
          "type": "array"
        },
        "inset_days": {
          "items": {
            "$ref": "#/$defs/NamedDay"
          },
          "title": "Inset Days",
          "type": "array"
        },
        "bank_holidays": {
          "items": {
            "$ref": "#/$defs/NamedDay"
          },
          "title": "Bank Holidays",
          "type": "array"
        }
      },
      "required": [
        "time_zone",
        "working_hours",
        "terms",
        "closures",
        "inset_days",
        "bank_holidays"
      ],
      "title": "BundleSchedule",
      "type": "object"
    },
    "Clause": {
      "additionalProperties": false,
      "properties": {
        "id": {
          "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){0,4}$",
          "title": "Id",
          "type": "string"
        },
        "heading": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Heading"
        },
        "text": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Text"
        },
        "continuation": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Continuation"
        }
      },
      "required": [
        "id"
      ],
      "title": "Clause",
      "type": "object"
    },
    "ContinueReason": {
      "additionalProperties": false,
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "label": {
          "minLength": 1,
          "title": "Label",
          "type": "string"
        },
        "clause": {
          "anyOf": [
            {
              "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){0,4}$",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Clause"
        },
        "acts": {
          "additionalProperties": {
            "enum": [
              "continue",
              "tell"
            ],
            "type": "string"
          },
          "minProperties": 1,
          "propertyNames": {
            "enum": [
              "browse",
              "post",
              "message",
              "reference",
              "connect"
            ]
          },
          "title": "Acts",
          "type": "object"
        },
        "tell": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Tell"
        }
      },
      "required": [
        "id",
        "label"
      ],
      "title": "ContinueReason",
      "type": "object"
    },
    "DateRange": {
      "additionalProperties": false,
      "properties": {
        "name": {
          "minLength": 1,
          "title": "Name",
          "type": "string"
        },
        "start": {
          "format": "date",
          "title": "Start",
          "type": "string"
        },
        "end": {
          "format": "date",
          "title": "End",
          "type": "string"
        }
      },
      "required": [
        "name",
        "start",
        "end"
      ],
      "title": "DateRange",
      "type": "object"
    },
    "DeviceGroup": {
      "additionalProperties": false,
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "label": {
          "minLength": 1,
          "title": "Label",
          "type": "string"
        },
        "description": {
          "default": "",
          "title": "Description",
          "type": "string"
        },
        "networks": {
          "default": [],
          "items": {
            "type": "string"
          },
          "title": "Networks",
          "type": "array"
        },
        "decrypt_https": {
          "default": true,
          "title": "Decrypt Https",
          "type": "boolean"
        },
        "school_accounts": {
          "anyOf": [
            {
              "$ref": "#/$defs/DeviceSchoolAccounts"
            },
            {
              "type": "null"
            }
          ],
          "default": null
        }
      },
      "required": [
        "id",
        "label"
      ],
      "title": "DeviceGroup",
      "type": "object"
    },
    "DeviceSchoolAccounts": {
      "additionalProperties": false,
      "description": "A school accounts device group (e.g. the office PC where the school's accounts are used):\nits traffic to these platforms, for these actions, counts as the school's account. For the\nplatforms whose cookies carry no account id, so an approved account could never be matched.",
      "properties": {
        "platforms": {
          "items": {
            "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
            "type": "string"
          },
          "minItems": 1,
          "title": "Platforms",
          "type": "array"
        },
        "actions": {
          "items": {
            "enum": [
              "browse",
              "post",
              "message",
              "reference",
              "connect",
              "subresource",
              "seen"
            ],
            "type": "string"
          },
          "minItems": 1,
          "title": "Actions",
          "type": "array"
        },
        "approved_by": {
          "minLength": 1,
          "title": "Approved By",
          "type": "string"
        },
        "approved_on": {
          "format": "date",
          "title": "Approved On",
          "type": "string"
        },
        "expires_on": {
          "anyOf": [
            {
              "format": "date",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Expires On"
        }
      },
      "required": [
        "platforms",
        "actions",
        "approved_by",
        "approved_on"
      ],
      "title": "DeviceSchoolAccounts",
      "type": "object"
    },
    "Document": {
      "additionalProperties": false,
      "properties": {
        "title": {
          "minLength": 1,
          "title": "Title",
          "type": "string"
        },
        "version": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Version",
          "type": "string"
        },
        "preamble": {
          "default": "",
          "title": "Preamble",
          "type": "string"
        },
        "approved_by": {
          "minLength": 1,
          "title": "Approved By",
          "type": "string"
        },
        "approved_on": {
          "format": "date",
          "title": "Approved On",
          "type": "string"
        },
        "review_on": {
          "format": "date",
          "title": "Review On",
          "type": "string"
        },
        "retention_note": {
          "default": "",
          "title": "Retention Note",
          "type": "string"
        }
      },
      "required": [
        "title",
        "version",
        "approved_by",
        "approved_on",
        "review_on"
      ],
      "title": "Document",
      "type": "object"
    },
    "Endpoint": {
      "additionalProperties": false,
      "properties": {
        "action": {
          "enum": [
            "post",
            "message",
            "reference",
            "connect"
          ],
          "title": "Action",
          "type": "string"
        },
        "methods": {
          "items": {
            "pattern": "^[A-Z]+$",
            "type": "string"
          },
          "minItems": 1,
          "title": "Methods",
          "type": "array"
        },
        "path": {
          "title": "Path",
          "type": "string"
        },
        "query": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Query"
        },
        "body": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Body"
        },
        "hosts": {
          "default": [],
          "items": {
            "maxLength": 253,
            "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
            "type": "string"
          },
          "title": "Hosts",
          "type": "array"
        },
        "source": {
          "anyOf": [
            {
              "maxLength": 300,
              "minLength": 1,
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Source"
        },
        "verified_on": {
          "anyOf": [
            {
              "format": "date",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Verified On"
        }
      },
      "required": [
        "action",
        "methods",
        "path"
      ],
      "title": "Endpoint",
      "type": "object"
    },
    "HeaderInjection": {
      "additionalProperties": false,
      "properties": {
        "google_allowed_domains": {
          "default": [],
          "items": {
            "maxLength": 253,
            "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
            "type": "string"
          },
          "title": "Google Allowed Domains",
          "type": "array"
        },
        "microsoft_tenant_restrictions_v1": {
          "anyOf": [
            {
              "$ref": "#/$defs/TenantRestrictionsV1"
            },
            {
              "type": "null"
            }
          ],
          "default": null
        },
        "microsoft_tenant_restrictions_v2": {
          "anyOf": [
            {
              "$ref": "#/$defs/TenantRestrictionsV2"
            },
            {
              "type": "null"
            }
          ],
          "default": null
        },
        "microsoft_restrict_msa": {
          "default": false,
          "title": "Microsoft Restrict Msa",
          "type": "boolean"
        },
        "youtube_restrict": {
          "anyOf": [
            {
              "enum": [
                "Strict",
                "Moderate"
              ],
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Youtube Restrict"
        }
      },
      "title": "HeaderInjection",
      "type": "object"
    },
    "NamedDay": {
      "additionalProperties": false,
      "properties": {
        "date": {
          "format": "date",
          "title": "Date",
          "type": "string"
        },
        "name": {
          "minLength": 1,
          "title": "Name",
          "type": "string"
        }
      },
      "required": [
        "date",
        "name"
      ],
      "title": "NamedDay",
      "type": "object"
    },
    "Platform": {
      "additionalProperties": false,
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "name": {
          "minLength": 1,
          "title": "Name",
          "type": "string"
        },
        "category": {
          "enum": [
            "social_network",
            "professional_network",
            "messaging",
            "video",
            "blog",
            "wiki",
            "forum"
          ],
          "title": "Category",
          "type": "string"
        },
        "domains": {
          "items": {
            "maxLength": 253,
            "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
            "type": "string"
          },
          "minItems": 1,
          "title": "Domains",
          "type": "array"
        },
        "hosts": {
          "default": [],
          "items": {
            "maxLength": 253,
            "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
            "type": "string"
          },
          "title": "Hosts",
          "type": "array"
        },
        "tlds": {
          "default": [],
          "items": {
            "pattern": "^[a-z0-9-]+$",
            "type": "string"
          },
          "title": "Tlds",
          "type": "array"
        },
        "account_cookies": {
          "default": [],
          "items": {
            "$ref": "#/$defs/AccountCookie"
          },
          "title": "Account Cookies",
          "type": "array"
        },
        "endpoints": {
          "default": [],
          "items": {
            "$ref": "#/$defs/Endpoint"
          },
          "title": "Endpoints",
          "type": "array"
        },
        "areas": {
          "default": [],
          "items": {
            "$ref": "#/$defs/Area"
          },
          "title": "Areas",
          "type": "array"
        }
      },
      "required": [
        "id",
        "name",
        "category",
        "domains"
      ],
      "title": "Platform",
      "type": "object"
    },
    "Privacy": {
      "additionalProperties": false,
      "description": "The bundle's `privacy` object: the privacy level the sensors apply, the one place a sensor\nreads it. Never part of the content hash: `compile_bundle` writes settings.yaml's level, and\nthe service the level in force as it serves the bundle.\n\nIt never carries a salt or key: each sensor keeps its own day's salt (replaced at the school's\nlocal midnight and destroyed) and, at level `stable`, its own long-lived key, so nothing the\nservice hands out, and nothing it keeps, maps a pseudonym to a device. Pseudonyms of different\nsensors need not agree.",
      "properties": {
        "level": {
          "enum": [
            "daily",
            "stable",
            "none"
          ],
          "title": "Level",
          "type": "string"
        }
      },
      "required": [
        "level"
      ],
      "title": "Privacy",
      "type": "object"
    },
    "ReportRecipient": {
      "additionalProperties": false,
      "description": "Someone other than the Headteacher who receives reports on the Tell form (clauses 5.3,\n12.3). Who reads them in the service is the headteacher's choice (its staff reports page);\n`email` stays in the service and never travels in the bundle.",
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "role": {
          "enum": [
            "line_manager",
            "senior_team"
          ],
          "title": "Role",
          "type": "string"
        },
        "label": {
          "maxLength": 120,
          "minLength": 1,
          "title": "Label",
          "type": "string"
        },
        "receives": {
          "anyOf": [
            {
              "items": {
                "enum": [
                  "contact",
                  "safeguarding",
                  "press",
                  "reputation",
                  "misuse",
                  "question",
                  "comment",
                  "other"
                ],
                "type": "string"
              },
              "type": "array"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Receives"
        },
        "email": {
          "default": [],
          "items": {
            "maxLength": 254,
            "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
            "type": "string"
          },
          "title": "Email",
          "type": "array"
        }
      },
      "required": [
        "id",
        "role",
        "label"
      ],
      "title": "ReportRecipient",
      "type": "object"
    },
    "RuleMatch": {
      "additionalProperties": false,
      "properties": {
        "categories": {
          "anyOf": [
            {
              "items": {
                "enum": [
                  "social_network",
                  "professional_network",
                  "messaging",
                  "video",
                  "blog",
                  "wiki",
                  "forum"
                ],
                "type": "string"
              },
              "type": "array"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Categories"
        },
        "platforms": {
          "anyOf": [
            {
              "items": {
                "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
                "type": "string"
              },
              "type": "array"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Platforms"
        },
        "actions": {
          "anyOf": [
            {
              "items": {
                "enum": [
                  "browse",
                  "post",
                  "message",
                  "reference",
                  "connect",
                  "subresource",
                  "seen"
                ],
                "type": "string"
              },
              "type": "array"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Actions"
        },
        "working_time": {
          "anyOf": [
            {
              "type": "boolean"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Working Time"
        },
        "device_groups": {
          "anyOf": [
            {
              "items": {
                "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
                "type": "string"
              },
              "type": "array"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Device Groups"
        },
        "accounts": {
          "anyOf": [
            {
              "items": {
                "enum": [
                  "school",
                  "personal",
                  "unknown"
                ],
                "type": "string"
              },
              "type": "array"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Accounts"
        }
      },
      "title": "RuleMatch",
      "type": "object"
    },
    "School": {
      "additionalProperties": false,
      "properties": {
        "name": {
          "minLength": 1,
          "title": "Name",
          "type": "string"
        },
        "short_name": {
          "minLength": 1,
          "title": "Short Name",
          "type": "string"
        },
        "headteacher": {
          "minLength": 1,
          "title": "Headteacher",
          "type": "string"
        }
      },
      "required": [
        "name",
        "short_name",
        "headteacher"
      ],
      "title": "School",
      "type": "object"
    },
    "SchoolAccount": {
      "additionalProperties": false,
      "properties": {
        "id": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Id",
          "type": "string"
        },
        "platform": {
          "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
          "title": "Platform",
          "type": "string"
        },
        "account_id": {
          "maxLength": 200,
          "minLength": 1,
          "title": "Account Id",
          "type": "string"
        },
        "label": {
          "minLength": 1,
          "title": "Label",
          "type": "string"
        },
        "approved_by": {
          "minLength": 1,
          "title": "Approved By",
          "type": "string"
        },
        "approved_on": {
          "format": "date",
          "title": "Approved On",
          "type": "string"
        },
        "expires_on": {
          "anyOf": [
            {
              "format": "date",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Expires On"
        },
        "actions": {
          "items": {
            "enum": [
              "browse",
              "post",
              "message",
              "reference",
              "connect",
              "subresource",
              "seen"
            ],
            "type": "string"
          },
          "minItems": 1,
          "title": "Actions",
          "type": "array"
        },
        "kind": {
          "anyOf": [
            {
              "enum": [
                "account",
                "profile",
                "page"
              ],
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Kind"
        }
      },
      "required": [
        "id",
        "platform",
        "account_id",
        "label",
        "approved_by",
        "approved_on",
        "actions"
      ],
      "title": "SchoolAccount",
      "type": "object"
    },
    "Settings": {
      "additionalProperties": false,
      "properties": {
        "privacy_level": {
          "default": "daily",
          "enum": [
            "daily",
            "stable",
            "none"
          ],
          "title": "Privacy Level",
          "type": "string"
        },
        "k_anonymity": {
          "default": 3,
          "maximum": 100,
          "minimum": 1,
          "title": "K Anonymity",
          "type": "integer"
        },
        "retention_days": {
          "default": 90,
          "maximum": 3650,
          "minimum": 1,
          "title": "Retention Days",
          "type": "integer"
        },
        "allowance_minutes": {
          "default": 30,
          "maximum": 480,
          "minimum": 1,
          "title": "Allowance Minutes",
          "type": "integer"
        },
        "event_time_granularity_minutes": {
          "default": 15,
          "enum": [
            1,
            5,
            15,
            60
          ],
          "title": "Event Time Granularity Minutes",
          "type": "integer"
        },
        "body_peek_bytes": {
          "default": 65536,
          "maximum": 1048576,
          "minimum": 0,
          "title": "Body Peek Bytes",
          "type": "integer"
        },
        "annual_review_due": {
          "anyOf": [
            {
              "format": "date",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Annual Review Due"
        },
        "personal_use_outside_working_time": {
          "default": "warn",
          "enum": [
            "warn",
            "log"
          ],
          "title": "Personal Use Outside Working Time",
          "type": "string"
        },
        "continue_reasons": {
          "items": {
            "$ref": "#/$defs/ContinueReason"
          },
          "minItems": 1,
          "title": "Continue Reasons",
          "type": "array"
        },
        "header_injection": {
          "$ref": "#/$defs/HeaderInjection",
          "default": {
            "google_allowed_domains": [],
            "microsoft_tenant_restrictions_v1": null,
            "microsoft_tenant_restrictions_v2": null,
            "microsoft_restrict_msa": false,
            "youtube_restrict": null
          }
        },
        "proxy_address": {
          "anyOf": [
            {
              "maxLength": 260,
              "pattern": "^(?:[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}$",
              "type": "string"
            },
            {
              "type": "null"
            }
          ],
          "default": null,
          "title": "Proxy Address"
        },
        "report_recipients": {
          "default": [],
          "items": {
            "$ref": "#/$defs/ReportRecipient"
          },
          "title": "Report Recipients",
          "type": "array"
        }
      },
      "required": [
        "continue_reasons"
      ],
      "title": "Settings",
      "type": "object"
    },
    "TenantRestrictionsV1": {
      "additionalProperties": false,
      "properties": {
        "tenants": {
          "items": {
            "type": "string"
          },
          "minItems": 1,
          "title": "Tenants",
          "type": "array"
        },
        "context": {
          "minLength": 1,
          "title": "Context",
          "type": "string"
        }
      },
      "required": [
        "tenants",
        "context"
      ],
      "title": "TenantRestrictionsV1",
      "type": "object"
    },
    "TenantRestrictionsV2": {
      "additionalProperties": false,
      "properties": {
        "tenant": {
          "minLength": 1,
          "title": "Tenant",
          "type": "string"
        },
        "policy": {
          "minLength": 1,
          "title": "Policy",
          "type": "string"
        }
      },
      "required": [
        "tenant",
        "policy"
      ],
      "title": "TenantRestrictionsV2",
      "type": "object"
    }
  },
  "additionalProperties": false,
  "description": "The bundle as a sensor receives it (`GET /api/v1/bundle`, the extension's built-in copy).",
  "properties": {
    "format": {
      "const": 1,
      "title": "Format",
      "type": "integer"
    },
    "policy_version": {
      "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
      "title": "Policy Version",
      "type": "string"
    },
    "school": {
      "$ref": "#/$defs/School"
    },
    "document": {
      "$ref": "#/$defs/Document"
    },
    "clauses": {
      "items": {
        "$ref": "#/$defs/Clause"
      },
      "title": "Clauses",
      "type": "array"
    },
    "platforms": {
      "items": {
        "$ref": "#/$defs/Platform"
      },
      "title": "Platforms",
      "type": "array"
    },
    "schedule": {
      "$ref": "#/$defs/BundleSchedule"
    },
    "device_groups": {
      "items": {
        "$ref": "#/$defs/DeviceGroup"
      },
      "title": "Device Groups",
      "type": "array"
    },
    "staff_group": {
      "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$",
      "title": "Staff Group",
      "type": "string"
    },
    "rules": {
      "items": {
        "$ref": "#/$defs/BundleRule"
      },
      "title": "Rules",
      "type": "array"
    },
    "accounts": {
      "items": {
        "$ref": "#/$defs/SchoolAccount"
      },
      "title": "Accounts",
      "type": "array"
    },
    "report_recipients": {
      "items": {
        "$ref": "#/$defs/BundleRecipient"
      },
      "title": "Report Recipients",
      "type": "array"
    },
    "settings": {
      "$ref": "#/$defs/Settings"
    },
    "version": {
      "pattern": "^[0-9a-f]{16}$",
      "title": "Version",
      "type": "string"
    },
    "privacy": {
      "$ref": "#/$defs/Privacy"
    }
  },
  "required": [
    "format",
    "policy_version",
    "school",
    "document",
    "clauses",
    "platforms",
    "schedule",
    "device_groups",
    "staff_group",
    "rules",
    "accounts",
    "report_recipients",
    "settings",
    "version",
    "privacy"
  ],
  "title": "Bundle",
  "type": "object"
};
