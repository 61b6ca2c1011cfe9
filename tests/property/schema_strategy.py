"""A hypothesis strategy that draws documents from loyalsim's own JSON Schemas.

hypothesis-jsonschema does not run with current hypothesis releases, and does not know
``unevaluatedProperties``; our schemas use a small subset of JSON Schema (objects with
if/then discriminators, $ref, enum/const, patterns, numeric bounds, arrays, anyOf), which
this module covers. Drawn documents satisfy the schema, so they reach the semantic rules.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

Schema = dict[str, Any]


class SchemaStrategy:
    def __init__(self, root: Schema) -> None:
        self.root = root

    def deref(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            target = dict(self.root["$defs"][schema["$ref"].split("/")[-1]])
            target.update({k: v for k, v in schema.items() if k != "$ref"})
            schema = target
        return schema

    def draw(self, draw: st.DrawFn, schema: Schema, depth: int = 0) -> Any:
        schema = self.deref(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return draw(st.sampled_from(schema["enum"]))
        if "anyOf" in schema and "type" not in schema:
            return self.draw(draw, draw(st.sampled_from(schema["anyOf"])), depth)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self.draw_object(draw, schema, depth)
        if kind == "array":
            low = schema.get("minItems", 0)
            size = draw(st.integers(low, max(low, 3 if depth < 4 else low)))
            items = [self.draw(draw, schema["items"], depth + 1) for _ in range(size)]
            if schema.get("uniqueItems"):
                unique: list[Any] = []
                for item in items:
                    if item not in unique:
                        unique.append(item)
                items = unique if len(unique) >= low else items[:0]
            return items
        if kind == "string":
            if "pattern" in schema:
                return draw(st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) < 40))
            printable = st.characters(blacklist_categories=("Cc", "Cs"))
            return draw(st.text(printable, min_size=schema.get("minLength", 0), max_size=12))
        if kind == "integer":
            return draw(st.integers(schema.get("minimum", -1000), schema.get("maximum", 100_000)))
        if kind == "number":
            low = schema.get("minimum", schema.get("exclusiveMinimum", -1000))
            high = schema.get("maximum", 10_000)
            value = draw(
                st.one_of(
                    st.integers(int(low), int(high)),
                    st.floats(low, high, allow_nan=False, allow_infinity=False),
                )
            )
            if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
                value = schema["exclusiveMinimum"] + 0.5
            return value
        if kind == "boolean":
            return draw(st.booleans())
        return draw(st.none())

    def draw_object(self, draw: st.DrawFn, schema: Schema, depth: int) -> dict[str, Any]:
        properties = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        out: dict[str, Any] = {}
        # Discriminated branches: choose the discriminator first, then honour its `then`.
        for branch in schema.get("allOf", []):
            if "if" not in branch:
                continue
            if "not" in branch["if"]:  # "required unless ...": giving them always is valid too
                required += branch["then"].get("required", [])
                continue
            ((name, cond),) = branch["if"]["properties"].items()
            if name not in out:
                options = self.deref(properties.get(name, {}))
                if "enum" in options:
                    out[name] = draw(st.sampled_from(options["enum"]))
                elif "const" in options:
                    out[name] = options["const"]
            if out.get(name) == cond["const"]:
                then = branch["then"]
                for key, sub in then.get("properties", {}).items():
                    properties[key] = sub if key not in properties else {**self.deref(properties[key]), **sub}
                required += then.get("required", [])
        if "anyOf" in schema:
            for option in draw(st.sampled_from(schema["anyOf"])).get("required", []):
                required.append(option)
        optional = [k for k in properties if k not in required and k not in out and k != "$schema"]
        chosen = (
            draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
            if optional and depth < 5
            else []
        )
        for key in list(dict.fromkeys(required)) + chosen:
            if key not in out:
                out[key] = self.draw(draw, properties.get(key, {}), depth + 1)
        return out


def documents(root: Schema) -> st.SearchStrategy[dict[str, Any]]:
    strategy = SchemaStrategy(root)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        document: dict[str, Any] = strategy.draw(draw, root)
        return document

    return build()
