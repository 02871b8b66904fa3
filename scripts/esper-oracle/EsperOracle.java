import com.espertech.esper.common.client.EPCompiled;
import com.espertech.esper.common.client.EventBean;
import com.espertech.esper.common.client.configuration.Configuration;
import com.espertech.esper.compiler.client.CompilerArguments;
import com.espertech.esper.compiler.client.EPCompilerProvider;
import com.espertech.esper.runtime.client.EPEventService;
import com.espertech.esper.runtime.client.EPRuntime;
import com.espertech.esper.runtime.client.EPRuntimeProvider;
import com.espertech.esper.runtime.client.EPStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs patterns on Esper itself, for Cepheus' differential test (scripts/esper-oracle/index.js).
 *
 * stdin: one case per line, {"pattern", "events": [{"type", "id", "timestamp", ...fields}], "types"?, "until"?,
 * "fieldTypes"?, "partitionBy"?}.
 * stdout: one line per case, {"matches": [{"at", "tags"}]} or {"error"}, in the conformance file's format:
 * `at` is the id of the first event whose timestamp is at or after the match's time, `tags` maps each tag to
 * an event id (a list for a repeated tag). Each case gets a fresh runtime on external time starting at 0, and
 * `select * from pattern [...]`, without a context unless "partitionBy" names a key field: then in a keyed
 * segmented context over every event type of the case. Every event type declares every field seen in the case:
 * Long when every value is integral, Double when numeric, else String or Boolean, unless the case's
 * "fieldTypes" ({"x": "int" | "long" | "double" | "string" | "boolean"}) says otherwise.
 */
public class EsperOracle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static int runtimes = 0;

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      ObjectNode result = JSON.createObjectNode();
      try {
        result.set("matches", run((ObjectNode) JSON.readTree(line)));
      } catch (Throwable t) {
        result.put("error", t.getClass().getSimpleName() + ": " + String.valueOf(t.getMessage()).split("\n")[0]);
      }
      out.println(JSON.writeValueAsString(result));
    }
  }

  private static ArrayNode run(ObjectNode c) throws Exception {
    ArrayNode events = (ArrayNode) c.get("events");
    Set<String> fields = new TreeSet<>();
    Set<String> typeNames = new TreeSet<>();
    for (JsonNode e : events) {
      typeNames.add(e.get("type").asText());
      for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!f.equals("type") && !f.equals("timestamp")) fields.add(f);
      }
    }
    if (c.has("types")) for (JsonNode t : c.get("types")) typeNames.add(t.asText());
    Map<String, Class<?>> fieldType = new HashMap<>();
    for (String f : fields) fieldType.put(f, typeOf(events, f));
    if (c.has("fieldTypes")) {
      for (Iterator<Map.Entry<String, JsonNode>> it = c.get("fieldTypes").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> t = it.next();
        fields.add(t.getKey());
        fieldType.put(t.getKey(), declared(t.getValue().asText()));
      }
    }

    Configuration config = new Configuration();
    config.getRuntime().getThreading().setInternalTimerEnabled(false);
    for (String t : typeNames) {
      Map<String, Object> props = new LinkedHashMap<>();
      for (String f : fields) props.put(f, fieldType.get(f));
      config.getCommon().addEventType(t, props);
    }
    String epl = "@name('s') select * from pattern [" + c.get("pattern").asText() + "]";
    if (c.has("partitionBy")) {
      // Cepheus' partitionBy is a keyed segmented context over every event type of the case.
      String key = c.get("partitionBy").asText();
      List<String> parts = new ArrayList<>();
      for (String t : typeNames) parts.add(key + " from " + t);
      epl = "create context CepheusKeys partition by " + String.join(", ", parts) + ";\n"
          + "@name('s') context CepheusKeys select * from pattern [" + c.get("pattern").asText() + "]";
    }
    EPCompiled compiled = EPCompilerProvider.getCompiler().compile(epl, new CompilerArguments(config));
    EPRuntime runtime = EPRuntimeProvider.getRuntime("oracle-" + (runtimes++), config);
    try {
      EPEventService events0 = runtime.getEventService();
      events0.advanceTime(0);
      EPStatement statement = null;
      for (EPStatement s : runtime.getDeploymentService().deploy(compiled).getStatements()) {
        if ("s".equals(s.getName())) statement = s;
      }
      List<Long> times = new ArrayList<>();
      List<ObjectNode> tagsOfMatches = new ArrayList<>();
      statement.addListener((newEvents, oldEvents, s, r) -> {
        if (newEvents == null) return;
        for (EventBean match : newEvents) {
          times.add(r.getEventService().getCurrentTime());
          tagsOfMatches.add(tagsOf(match));
        }
      });
      for (JsonNode e : events) {
        long ts = e.get("timestamp").asLong();
        // Step through every due timer at its own time, as Cepheus' clock does.
        if (ts > events0.getCurrentTime()) events0.advanceTimeSpan(ts);
        Map<String, Object> event = new HashMap<>();
        // Only the fields the event has: a missing one reads as null either way, but exists(x?) tells them apart.
        for (String f : fields) if (e.has(f)) event.put(f, valueOf(e.get(f), fieldType.get(f)));
        events0.sendEventMap(event, e.get("type").asText());
      }
      if (c.has("until") && c.get("until").asLong() > events0.getCurrentTime()) events0.advanceTimeSpan(c.get("until").asLong());
      ArrayNode matches = JSON.createArrayNode();
      for (int i = 0; i < times.size(); i++) {
        ObjectNode m = matches.addObject();
        String at = null;
        for (JsonNode e : events) {
          if (e.get("timestamp").asLong() >= times.get(i)) {
            at = e.get("id").asText();
            break;
          }
        }
        if (at == null) m.putNull("at");
        else m.put("at", at);
        m.set("tags", tagsOfMatches.get(i));
      }
      return matches;
    } finally {
      runtime.destroy();
    }
  }

  private static Class<?> declared(String name) {
    switch (name) {
      case "int": return Integer.class;
      case "long": return Long.class;
      case "double": return Double.class;
      case "boolean": return Boolean.class;
      case "string": return String.class;
      default: throw new IllegalArgumentException("unknown field type " + name);
    }
  }

  private static Class<?> typeOf(ArrayNode events, String field) {
    Class<?> type = null;
    for (JsonNode e : events) {
      JsonNode v = e.get(field);
      if (v == null || v.isNull()) continue;
      Class<?> k = v.isIntegralNumber() ? Long.class : v.isNumber() ? Double.class : v.isBoolean() ? Boolean.class : String.class;
      if (type == null || type == k) type = k;
      else if ((type == Long.class || type == Double.class) && (k == Long.class || k == Double.class)) type = Double.class;
      else type = String.class;
    }
    return type == null ? String.class : type;
  }

  private static Object valueOf(JsonNode v, Class<?> type) {
    if (v == null || v.isNull()) return null;
    if (type == Integer.class) return v.asInt();
    if (type == Long.class) return v.asLong();
    if (type == Double.class) return v.asDouble();
    if (type == Boolean.class) return v.asBoolean();
    return v.isTextual() ? v.asText() : v.toString();
  }

  private static ObjectNode tagsOf(EventBean match) {
    ObjectNode tags = JSON.createObjectNode();
    for (String tag : match.getEventType().getPropertyNames()) {
      Object v = match.get(tag);
      if (v == null) continue;
      if (v.getClass().isArray()) {
        ArrayNode ids = tags.putArray(tag);
        for (int i = 0; i < java.lang.reflect.Array.getLength(v); i++) ids.add(idOf(java.lang.reflect.Array.get(v, i)));
      } else {
        tags.put(tag, idOf(v));
      }
    }
    return tags;
  }

  private static String idOf(Object v) {
    if (v instanceof EventBean) v = ((EventBean) v).getUnderlying();
    if (v instanceof Map) return String.valueOf(((Map<?, ?>) v).get("id"));
    return String.valueOf(v);
  }
}
