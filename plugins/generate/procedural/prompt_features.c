/* Turns prompt words into steering features: evidence for subjects and
 * styles, named colours, detail and weight hints, and words to letter.
 * Words are matched on lower-case ASCII tokens; other bytes (UTF-8 included)
 * separate words, so any prompt is safe to parse. */
#include <ctype.h>
#include <string.h>
#include "pg.h"

enum { K_SUBJ, K_HINT, K_LOOK, K_HUE, K_COLORFUL, K_MONO, K_DETAIL, K_WEIGHT, K_BODY, K_CUE, K_STOP };

typedef struct kw {
    const char *word;  /* a trailing '*' matches any word with that prefix */
    int kind;
    int idx;
    double w;
} kw;

#define S(word, idx, w) { word, K_SUBJ, idx, w }
#define L(word, idx, w) { word, K_LOOK, idx, w }
#define H(word, idx) { word, K_HINT, idx, 0 }

static const kw pg_words[] = {
    /* subjects named outright weigh the most */
    S("mandala*", PG_S_MANDALA, 3), S("rosette", PG_S_MANDALA, 2), S("chakra", PG_S_MANDALA, 2),
    S("tribal", PG_S_TRIBAL, 1.5), S("polynesian", PG_S_TRIBAL, 1.5), S("maori", PG_S_TRIBAL, 1.5),
    S("samoan", PG_S_TRIBAL, 1.5), S("hawaiian", PG_S_TRIBAL, 1.5), S("tiki", PG_S_TRIBAL, 2),
    S("flame", PG_S_TRIBAL, 1.5), S("fire", PG_S_TRIBAL, 1), S("koru", PG_S_TRIBAL, 3),
    S("geometric", PG_S_GEOMETRIC, 1.2), S("geometry", PG_S_GEOMETRIC, 2), S("sacred", PG_S_GEOMETRIC, 1),
    S("triangle", PG_S_GEOMETRIC, 3), S("hexagon", PG_S_GEOMETRIC, 3), S("polygon*", PG_S_GEOMETRIC, 3),
    S("cube", PG_S_GEOMETRIC, 3), S("metatron", PG_S_GEOMETRIC, 3), S("abstract", PG_S_GEOMETRIC, 1.5),
    S("prism", PG_S_GEOMETRIC, 2), S("crystal", PG_S_GEOMETRIC, 2), S("chaos", PG_S_GEOMETRIC, 1),
    S("rose", PG_S_ROSE, 3), S("love", PG_S_ROSE, 1),
    S("flower", PG_S_FLOWER, 3), S("floral", PG_S_FLOWER, 2.5), S("blossom", PG_S_FLOWER, 3),
    S("peony", PG_S_FLOWER, 3), S("peonies", PG_S_FLOWER, 3), S("daisy", PG_S_FLOWER, 3),
    S("daisies", PG_S_FLOWER, 3), S("cherry", PG_S_FLOWER, 3), S("sakura", PG_S_FLOWER, 3),
    S("chrysanthemum", PG_S_FLOWER, 3), S("poppy", PG_S_FLOWER, 3), S("poppies", PG_S_FLOWER, 3),
    S("sunflower", PG_S_FLOWER, 3), S("tulip", PG_S_FLOWER, 3), S("orchid", PG_S_FLOWER, 3),
    S("hibiscus", PG_S_FLOWER, 3), S("magnolia", PG_S_FLOWER, 3), S("lily", PG_S_FLOWER, 2.5),
    S("dahlia", PG_S_FLOWER, 3), S("bloom*", PG_S_FLOWER, 2.5), S("spring", PG_S_FLOWER, 1),
    S("lotus", PG_S_LOTUS, 3), S("peace", PG_S_LOTUS, 1.5),
    S("balance", PG_S_LOTUS, 1), S("harmony", PG_S_LOTUS, 1), S("zen", PG_S_LOTUS, 1.5),
    S("enlighten*", PG_S_LOTUS, 1.5), S("meditat*", PG_S_LOTUS, 1.5), S("buddha", PG_S_LOTUS, 2),
    S("leaf", PG_S_BRANCH, 3), S("leaves", PG_S_BRANCH, 3), S("fern", PG_S_BRANCH, 3),
    S("branch*", PG_S_BRANCH, 3), S("botanic*", PG_S_BRANCH, 2.5), S("vine*", PG_S_BRANCH, 3),
    S("ivy", PG_S_BRANCH, 3), S("olive", PG_S_BRANCH, 3), S("laurel", PG_S_BRANCH, 3),
    S("plant*", PG_S_BRANCH, 2.5), S("lavender", PG_S_BRANCH, 2.5), S("herb*", PG_S_BRANCH, 2.5),
    S("wildflower*", PG_S_BRANCH, 2.5), S("nature", PG_S_BRANCH, 1.5), S("garden", PG_S_BRANCH, 1.5),
    S("growth", PG_S_BRANCH, 1.5), S("life", PG_S_BRANCH, 0.8), S("tree", PG_S_BRANCH, 2),
    S("snake", PG_S_SNAKE, 3), S("serpent", PG_S_SNAKE, 3), S("cobra", PG_S_SNAKE, 3),
    S("viper", PG_S_SNAKE, 3), S("python", PG_S_SNAKE, 3), S("ouroboros", PG_S_SNAKE, 3),
    S("dragon", PG_S_SNAKE, 2.5), S("temptation", PG_S_SNAKE, 1.5), S("venom", PG_S_SNAKE, 1.5),
    S("sin", PG_S_SNAKE, 1), S("poison", PG_S_SNAKE, 1), S("betrayal", PG_S_SNAKE, 1.5),
    S("eternal", PG_S_SNAKE, 0.6), S("eternity", PG_S_SNAKE, 0.8), S("rebirth", PG_S_SNAKE, 0.8),
    S("wolf", PG_S_WOLF, 3), S("wolves", PG_S_WOLF, 3), S("fox", PG_S_WOLF, 2.5),
     S("dog", PG_S_WOLF, 2), S("husky", PG_S_WOLF, 2.5),
    S("loyalty", PG_S_WOLF, 1.5), S("pack", PG_S_WOLF, 1.5), S("wild", PG_S_WOLF, 1),
    S("wilderness", PG_S_WOLF, 1), S("howl*", PG_S_WOLF, 2),
    S("lion", PG_S_CAT, 3), S("lioness", PG_S_CAT, 3), S("tiger", PG_S_CAT, 3),
    S("cat", PG_S_CAT, 3), S("panther", PG_S_CAT, 3), S("leopard", PG_S_CAT, 3),
    S("jaguar", PG_S_CAT, 3), S("cougar", PG_S_CAT, 3), S("strength", PG_S_CAT, 1.5),
    S("courage", PG_S_CAT, 1.5), S("pride", PG_S_CAT, 1.2), S("king", PG_S_CAT, 1),
    S("brave*", PG_S_CAT, 1), S("power*", PG_S_CAT, 1),
    S("bird", PG_S_BIRD, 3), S("swallow", PG_S_BIRD, 3), S("sparrow", PG_S_BIRD, 3),
    S("eagle", PG_S_BIRD, 3), S("hawk", PG_S_BIRD, 3), S("falcon", PG_S_BIRD, 3),
    S("raven", PG_S_BIRD, 3), S("crow", PG_S_BIRD, 3), S("phoenix", PG_S_BIRD, 3),
    S("dove", PG_S_BIRD, 3), S("hummingbird", PG_S_BIRD, 3), S("wings", PG_S_BIRD, 2),
    S("freedom", PG_S_BIRD, 2), S("free", PG_S_BIRD, 1), S("flight", PG_S_BIRD, 1.5),
    S("fly*", PG_S_BIRD, 1), S("sky", PG_S_BIRD, 1),
    S("koi", PG_S_KOI, 3), S("carp", PG_S_KOI, 3), S("fish", PG_S_KOI, 3),
    S("goldfish", PG_S_KOI, 3), S("luck", PG_S_KOI, 1), S("fortune", PG_S_KOI, 1),
    S("perseverance", PG_S_KOI, 1.5),
    S("butterfl*", PG_S_BUTTERFLY, 3), S("moth", PG_S_BUTTERFLY, 3), 
    S("transformation", PG_S_BUTTERFLY, 2), S("metamorphosis", PG_S_BUTTERFLY, 2),
    S("beauty", PG_S_BUTTERFLY, 1), S("change", PG_S_BUTTERFLY, 1),
    S("spider", PG_S_SPIDER, 3), S("web", PG_S_SPIDER, 2.5), S("cobweb", PG_S_SPIDER, 3), S("scorpion", PG_S_SPIDER, 3),
    S("fear", PG_S_SPIDER, 1), S("nightmare", PG_S_SPIDER, 1), S("trap*", PG_S_SPIDER, 1),
    S("skull", PG_S_SKULL, 3), S("skeleton", PG_S_SKULL, 3), S("bone*", PG_S_SKULL, 2),
    S("reaper", PG_S_SKULL, 2.5), S("death", PG_S_SKULL, 2), S("dead", PG_S_SKULL, 1.5),
    S("mortality", PG_S_SKULL, 2), S("memento", PG_S_SKULL, 2), S("grave*", PG_S_SKULL, 1.5),
    S("horror", PG_S_SKULL, 1), S("madness", PG_S_SKULL, 0.7),
    S("dagger", PG_S_DAGGER, 3), S("sword", PG_S_DAGGER, 3), S("knife", PG_S_DAGGER, 3),
    S("blade", PG_S_DAGGER, 3), S("war*", PG_S_DAGGER, 1.2), S("battle", PG_S_DAGGER, 1.5),
    S("revenge", PG_S_DAGGER, 1.5), S("honor", PG_S_DAGGER, 1), S("fight*", PG_S_DAGGER, 1.2),
    S("protect*", PG_S_DAGGER, 1),
    S("heart", PG_S_HEART, 3), S("romance", PG_S_HEART, 1.5),
    S("passion", PG_S_HEART, 1.5), S("mother", PG_S_HEART, 1), S("mom", PG_S_HEART, 1),
    S("anchor", PG_S_ANCHOR, 3), S("sailor", PG_S_ANCHOR, 1.5), S("navy", PG_S_ANCHOR, 1),
    S("hope", PG_S_ANCHOR, 1), S("ship", PG_S_ANCHOR, 1.5), S("harbor", PG_S_ANCHOR, 1.5),
    S("eye", PG_S_EYE, 3), S("horus", PG_S_EYE, 3), S("gaze", PG_S_EYE, 2),
    S("vision*", PG_S_EYE, 1.5), S("wisdom", PG_S_EYE, 1.5), S("truth", PG_S_EYE, 1.2),
    S("illuminati", PG_S_EYE, 2), S("providence", PG_S_EYE, 2), S("mind", PG_S_EYE, 1),
    S("madness", PG_S_EYE, 1), S("insanity", PG_S_EYE, 1), S("soul", PG_S_EYE, 0.7),
    S("compass", PG_S_COMPASS, 3), S("map", PG_S_COMPASS, 2), S("journey", PG_S_COMPASS, 1.5),
    S("travel*", PG_S_COMPASS, 1.5), S("adventure", PG_S_COMPASS, 1.5), S("wanderlust", PG_S_COMPASS, 2),
    S("direction", PG_S_COMPASS, 1.5), S("explor*", PG_S_COMPASS, 1.5),
    S("moon", PG_S_CELESTIAL, 3), S("sun", PG_S_CELESTIAL, 3), S("star", PG_S_CELESTIAL, 2.5),
    S("crescent", PG_S_CELESTIAL, 3), S("constellation*", PG_S_CELESTIAL, 3),
    S("planet*", PG_S_CELESTIAL, 2.5), S("galax*", PG_S_CELESTIAL, 2), S("cosm*", PG_S_CELESTIAL, 2),
    S("celestial", PG_S_CELESTIAL, 3), S("lunar", PG_S_CELESTIAL, 3), S("solar", PG_S_CELESTIAL, 3),
    S("night", PG_S_CELESTIAL, 1.2), S("dream*", PG_S_CELESTIAL, 1), S("universe", PG_S_CELESTIAL, 1.5),
    S("astral", PG_S_CELESTIAL, 2), S("zodiac", PG_S_CELESTIAL, 2), S("eclipse", PG_S_CELESTIAL, 3),
    S("wave", PG_S_WAVE, 3), S("ocean", PG_S_WAVE, 2),
    S("sea", PG_S_WAVE, 2), S("surf*", PG_S_WAVE, 2), S("water", PG_S_WAVE, 1.5),
    S("tide", PG_S_WAVE, 2), S("storm", PG_S_WAVE, 1),
    S("mountain*", PG_S_MOUNTAIN, 3), S("peak*", PG_S_MOUNTAIN, 2.5), S("landscape", PG_S_MOUNTAIN, 2.5),
    S("forest", PG_S_MOUNTAIN, 2), S("pine*", PG_S_MOUNTAIN, 2), S("hik*", PG_S_MOUNTAIN, 2),
    S("alps", PG_S_MOUNTAIN, 2.5), S("horizon", PG_S_MOUNTAIN, 1.5),
    S("feather*", PG_S_FEATHER, 3), S("quill", PG_S_FEATHER, 3), S("plume", PG_S_FEATHER, 3),
    S("dreamcatcher", PG_S_FEATHER, 3), S("arrow*", PG_S_FEATHER, 2.5),
    S("lettering", PG_S_LETTERING, 3.5), S("script", PG_S_LETTERING, 3), S("calligraph*", PG_S_LETTERING, 3.5),
    S("typograph*", PG_S_LETTERING, 3.5), S("quote", PG_S_LETTERING, 3), S("text", PG_S_LETTERING, 2.5),
    S("word", PG_S_LETTERING, 2.5), S("letters", PG_S_LETTERING, 3),
    S("name", PG_S_LETTERING, 2.5), S("handwrit*", PG_S_LETTERING, 3), S("font", PG_S_LETTERING, 3),
    S("saying", PG_S_LETTERING, 2), S("motto", PG_S_LETTERING, 3),
    S("knot*", PG_S_KNOT, 3), S("celtic", PG_S_KNOT, 1.2), S("triquetra", PG_S_KNOT, 3),
    S("trinity", PG_S_KNOT, 2), S("viking", PG_S_KNOT, 2), S("norse", PG_S_KNOT, 2),
    S("nordic", PG_S_KNOT, 2), S("rune*", PG_S_KNOT, 2), S("infinity", PG_S_KNOT, 1.5),
    S("eternity", PG_S_KNOT, 0.8), S("interlac*", PG_S_KNOT, 2.5), S("family", PG_S_KNOT, 0.8),

    /* variants inside a family */
    H("peony", PG_H_PEONY), H("peonies", PG_H_PEONY), H("daisy", PG_H_DAISY), H("daisies", PG_H_DAISY),
    H("blossom", PG_H_BLOSSOM), H("cherry", PG_H_BLOSSOM), H("sakura", PG_H_BLOSSOM),
    H("sunflower", PG_H_SUNFLOWER), H("poppy", PG_H_POPPY), H("poppies", PG_H_POPPY),
    H("tulip", PG_H_TULIP), H("olive", PG_H_OLIVE), H("laurel", PG_H_OLIVE), H("fern", PG_H_FERN),
    H("lavender", PG_H_LAVENDER), H("eucalyptus", PG_H_EUCALYPTUS), H("fox", PG_H_FOX),
    H("lion", PG_H_LION), H("lioness", PG_H_LION), H("tiger", PG_H_TIGER),
    H("panther", PG_H_PANTHER), H("jaguar", PG_H_PANTHER), H("leopard", PG_H_PANTHER),
    H("eagle", PG_H_EAGLE), H("hawk", PG_H_EAGLE), H("falcon", PG_H_EAGLE), H("swallow", PG_H_SWALLOW),
    H("sparrow", PG_H_SWALLOW), H("raven", PG_H_RAVEN), H("crow", PG_H_RAVEN), H("phoenix", PG_H_PHOENIX),
    H("dove", PG_H_DOVE), H("moth", PG_H_MOTH), H("moon", PG_H_MOON),
    H("crescent", PG_H_MOON), H("lunar", PG_H_MOON), H("sun", PG_H_SUN), H("solar", PG_H_SUN),
    H("star", PG_H_STAR), H("constellation*", PG_H_STAR), H("sword", PG_H_SWORD),
    H("dragon", PG_H_DRAGON), H("ouroboros", PG_H_OUROBOROS), H("cobra", PG_H_COBRA), H("web", PG_H_WEB),
    H("cobweb", PG_H_WEB), H("arrow*", PG_H_ARROW), H("dreamcatcher", PG_H_DREAMCATCHER),
    H("triangle*", PG_H_TRIANGLE), H("hexagon*", PG_H_HEXAGON), H("cube", PG_H_CUBE),
    H("metatron", PG_H_CUBE), H("polynesian", PG_H_POLYNESIAN), H("samoan", PG_H_POLYNESIAN),
    H("maori", PG_H_POLYNESIAN), H("flame*", PG_H_FLAME), H("fire", PG_H_FLAME), H("pine*", PG_H_PINE),
    H("forest", PG_H_PINE), H("infinity", PG_H_INFINITY), H("sacred", PG_H_SACRED),
    H("hummingbird", PG_H_HUMMINGBIRD), H("scorpion", PG_H_SCORPION),
    H("horus", PG_H_HORUS), H("egyptian", PG_H_HORUS), H("winged", PG_H_WINGS), H("wings", PG_H_WINGS),

    /* more of the prompt grammar's subjects, mapped to the nearest family */
    S("owl", PG_S_BIRD, 3), S("deer", PG_S_WOLF, 2.5), S("stag", PG_S_WOLF, 2.5), S("bear", PG_S_CAT, 2.5),
    S("whale", PG_S_KOI, 2.5), S("octopus", PG_S_KOI, 2), S("jellyfish", PG_S_KOI, 2),
    S("ship", PG_S_ANCHOR, 2), S("lighthouse", PG_S_ANCHOR, 2), S("bee", PG_S_BUTTERFLY, 2.5),
    S("hourglass", PG_S_SKULL, 2), S("key", PG_S_DAGGER, 2), S("sunflower", PG_S_FLOWER, 3),
    S("eclipse", PG_S_CELESTIAL, 3), S("tree", PG_S_BRANCH, 2.5),
    S("grief", PG_S_SKULL, 0.7), S("grief", PG_S_ROSE, 0.5), S("memory", PG_S_ROSE, 0.6),
    S("longing", PG_S_BIRD, 0.7), S("solitude", PG_S_MOUNTAIN, 1), S("devotion", PG_S_HEART, 1.2),
    S("resilience", PG_S_LOTUS, 0.8), S("nostalgia", PG_S_BIRD, 0.6), S("fury", PG_S_CAT, 0.8),
    S("fury", PG_S_TRIBAL, 0.6), S("serenity", PG_S_LOTUS, 1), S("serenity", PG_S_WAVE, 0.5),
    S("banner", PG_S_LETTERING, 1.5), S("ribbon", PG_S_LETTERING, 1.2), S("scroll", PG_S_LETTERING, 1),
    H("deer", PG_H_DEER), H("stag", PG_H_DEER), H("bear", PG_H_BEAR), H("owl", PG_H_OWL),
    H("bee", PG_H_BEE), H("triquetra", PG_H_TRIQUETRA), H("trinity", PG_H_TRIQUETRA),
    H("valknut", PG_H_VALKNUT), H("planet*", PG_H_PLANET), H("saturn", PG_H_PLANET),
    S("valknut", PG_S_KNOT, 3), S("saturn", PG_S_CELESTIAL, 3),
    L("celtic", PG_L_ORNAMENTAL, 2), L("celtic", PG_L_BLACKWORK, 1.5), L("woodcut", PG_L_ENGRAVING, 4),

    /* styles */
    L("blackwork", PG_L_BLACKWORK, 3), L("blackout", PG_L_BLACKWORK, 3), L("bold", PG_L_BLACKWORK, 0.7),
    L("heavy", PG_L_BLACKWORK, 0.7), L("dark*", PG_L_BLACKWORK, 0.8), L("gothic", PG_L_BLACKWORK, 1.5),
    L("fineline", PG_L_FINELINE, 3), L("fine", PG_L_FINELINE, 2.5), L("delicate", PG_L_FINELINE, 2),
    L("thin", PG_L_FINELINE, 1.5), L("single", PG_L_FINELINE, 1), L("elegant", PG_L_FINELINE, 1),
    L("line", PG_L_FINELINE, 1), L("lineart", PG_L_FINELINE, 2), L("outline*", PG_L_FINELINE, 1.5),
    L("dotwork", PG_L_DOTWORK, 3), L("dots", PG_L_DOTWORK, 2), L("dotted", PG_L_DOTWORK, 2),
    L("stippl*", PG_L_DOTWORK, 3), L("pointillis*", PG_L_DOTWORK, 3),
    L("geometric", PG_L_GEOMETRIC, 3), L("geometry", PG_L_GEOMETRIC, 2), L("sacred", PG_L_GEOMETRIC, 1.5),
    L("linework", PG_L_GEOMETRIC, 1.5), L("symmetr*", PG_L_GEOMETRIC, 1), L("polygon*", PG_L_GEOMETRIC, 2),
    L("tribal", PG_L_TRIBAL, 3), L("polynesian", PG_L_TRIBAL, 3), L("maori", PG_L_TRIBAL, 3),
    L("samoan", PG_L_TRIBAL, 3), L("tiki", PG_L_TRIBAL, 2), L("hawaiian", PG_L_TRIBAL, 2),
    L("traditional", PG_L_TRADITIONAL, 3), L("oldschool", PG_L_TRADITIONAL, 3), L("old", PG_L_TRADITIONAL, 1),
    L("school", PG_L_TRADITIONAL, 1.5), L("americana", PG_L_TRADITIONAL, 3), L("sailor", PG_L_TRADITIONAL, 2),
    L("flash", PG_L_TRADITIONAL, 2), L("vintage", PG_L_TRADITIONAL, 1.5), L("retro", PG_L_TRADITIONAL, 1.5),
    L("neo", PG_L_NEOTRAD, 5), L("neotraditional", PG_L_NEOTRAD, 4), L("illustrative", PG_L_NEOTRAD, 1.5),
    L("sketch*", PG_L_SKETCH, 3), L("pencil", PG_L_SKETCH, 3), L("doodle", PG_L_SKETCH, 2.5),
    L("scribbl*", PG_L_SKETCH, 2.5), L("drawn", PG_L_SKETCH, 1.5), L("drawing", PG_L_SKETCH, 1.5),
    L("watercolo*", PG_L_WATERCOLOR, 4), L("paint*", PG_L_WATERCOLOR, 2), L("splash*", PG_L_WATERCOLOR, 2),
    L("pastel", PG_L_WATERCOLOR, 2), L("abstract", PG_L_WATERCOLOR, 0.8),
    L("japanese", PG_L_JAPANESE, 3.5), L("irezumi", PG_L_JAPANESE, 4), L("japan", PG_L_JAPANESE, 3),
    L("oriental", PG_L_JAPANESE, 3), L("yakuza", PG_L_JAPANESE, 3), L("asian", PG_L_JAPANESE, 2),
    L("koi", PG_L_JAPANESE, 1), L("dragon", PG_L_JAPANESE, 1), L("sakura", PG_L_JAPANESE, 1),
    L("minimal*", PG_L_MINIMAL, 3.5), L("simple", PG_L_MINIMAL, 2.5), L("tiny", PG_L_MINIMAL, 2.5),
    L("small", PG_L_MINIMAL, 1.5), L("dainty", PG_L_MINIMAL, 2.5), L("subtle", PG_L_MINIMAL, 2),
    L("clean", PG_L_MINIMAL, 1),
    L("ornament*", PG_L_ORNAMENTAL, 3), L("ornate", PG_L_ORNAMENTAL, 2.5), L("filigree", PG_L_ORNAMENTAL, 3),
    L("lace", PG_L_ORNAMENTAL, 3), L("baroque", PG_L_ORNAMENTAL, 2.5), L("decorative", PG_L_ORNAMENTAL, 2.5),
    L("henna", PG_L_ORNAMENTAL, 3), L("mehndi", PG_L_ORNAMENTAL, 3), L("boho", PG_L_ORNAMENTAL, 2.5),
    L("jewel*", PG_L_ORNAMENTAL, 2), L("mandala*", PG_L_ORNAMENTAL, 1),
    L("trash", PG_L_TRASHPOLKA, 4), L("polka", PG_L_TRASHPOLKA, 4), L("chaotic", PG_L_TRASHPOLKA, 2),
    L("collage", PG_L_TRASHPOLKA, 2.5), L("grunge", PG_L_TRASHPOLKA, 2.5), L("punk", PG_L_TRASHPOLKA, 2),
    L("chaos", PG_L_TRASHPOLKA, 1), L("madness", PG_L_TRASHPOLKA, 0.6),
    L("engrav*", PG_L_ENGRAVING, 4), L("etch*", PG_L_ENGRAVING, 4), L("woodcut", PG_L_ENGRAVING, 4),
    L("linocut", PG_L_ENGRAVING, 4), L("antique", PG_L_ENGRAVING, 2), L("victorian", PG_L_ENGRAVING, 2),
    L("realis*", PG_L_ENGRAVING, 1.5), L("hatch*", PG_L_ENGRAVING, 3), L("medieval", PG_L_ENGRAVING, 2),

    /* colours */
    { "colorful", K_COLORFUL, 0, 1 }, { "colourful", K_COLORFUL, 0, 1 }, { "vibrant", K_COLORFUL, 0, 1 },
    { "rainbow", K_COLORFUL, 0, 1 }, { "color", K_COLORFUL, 0, 1 }, { "colour", K_COLORFUL, 0, 1 },
    { "colored", K_COLORFUL, 0, 1 }, { "coloured", K_COLORFUL, 0, 1 }, { "bright", K_COLORFUL, 0, 1 },
    { "black", K_MONO, 0, 1 }, { "grey", K_MONO, 0, 1 }, { "gray", K_MONO, 0, 1 },
    { "monochrom*", K_MONO, 0, 1 }, { "blackwork", K_MONO, 0, 1 }, { "ink", K_MONO, 0, 0.5 },
    { "red", K_HUE, 0xC0221E, 1 }, { "crimson", K_HUE, 0xA0142A, 1 }, { "scarlet", K_HUE, 0xD0301E, 1 },
    { "blood", K_HUE, 0x9A1010, 1 }, { "blue", K_HUE, 0x1F5FA8, 1 }, { "azure", K_HUE, 0x2B8FD6, 1 },
    { "cobalt", K_HUE, 0x1C47A0, 1 }, { "sapphire", K_HUE, 0x1A3F95, 1 }, { "turquoise", K_HUE, 0x1AA3A0, 1 },
    { "teal", K_HUE, 0x157F80, 1 }, { "green", K_HUE, 0x2F7D32, 1 }, { "emerald", K_HUE, 0x138A55, 1 },
    { "jade", K_HUE, 0x3C9A6B, 1 }, { "yellow", K_HUE, 0xF0B424, 1 }, { "gold", K_HUE, 0xD9A21C, 1 },
    { "golden", K_HUE, 0xD9A21C, 1 }, { "amber", K_HUE, 0xE08E10, 1 }, { "orange", K_HUE, 0xE8701A, 1 },
    { "purple", K_HUE, 0x6A2C91, 1 }, { "violet", K_HUE, 0x7B3FB0, 1 }, { "magenta", K_HUE, 0xC2287A, 1 },
    { "pink", K_HUE, 0xE87AA0, 1 }, { "brown", K_HUE, 0x7A4A25, 1 }, { "copper", K_HUE, 0xB06A30, 1 },

    /* detail and weight */
    { "intricate", K_DETAIL, 0, 1 }, { "detailed", K_DETAIL, 0, 1 }, { "complex", K_DETAIL, 0, 1 },
    { "elaborate", K_DETAIL, 0, 1 }, { "ornate", K_DETAIL, 0, 0.7 }, { "highly", K_DETAIL, 0, 0.5 },
    { "minimal*", K_DETAIL, 0, -1 }, { "simple", K_DETAIL, 0, -1 }, { "tiny", K_DETAIL, 0, -0.8 },
    { "small", K_DETAIL, 0, -0.5 }, { "clean", K_DETAIL, 0, -0.4 },
    { "bold", K_WEIGHT, 0, 1 }, { "thick", K_WEIGHT, 0, 1 }, { "heavy", K_WEIGHT, 0, 0.8 },
    { "strong", K_WEIGHT, 0, 0.4 }, { "fine*", K_WEIGHT, 0, -1 }, { "thin", K_WEIGHT, 0, -1 },
    { "delicate", K_WEIGHT, 0, -0.8 }, { "dainty", K_WEIGHT, 0, -0.8 },

    /* body parts: the prompt describes a tattoo worn on skin */
    { "forearm", K_BODY, 0, 1 }, { "arm", K_BODY, 0, 1 }, { "wrist", K_BODY, 0, 1 },
    { "shoulder", K_BODY, 0, 1 }, { "back", K_BODY, 0, 1 }, { "chest", K_BODY, 0, 1 },
    { "leg", K_BODY, 0, 1 }, { "thigh", K_BODY, 0, 1 }, { "calf", K_BODY, 0, 1 },
    { "ankle", K_BODY, 0, 1 }, { "neck", K_BODY, 0, 1 }, { "hand", K_BODY, 0, 1 },
    { "ribs", K_BODY, 0, 1 }, { "spine", K_BODY, 0, 1 }, { "sleeve", K_BODY, 0, 1 },
    { "skin", K_BODY, 0, 1 }, { "collarbone", K_BODY, 0, 1 }, { "bicep*", K_BODY, 0, 1 },

    /* the next word is text to letter */
    { "saying", K_CUE, 0, 0 }, { "reads", K_CUE, 0, 0 }, { "reading", K_CUE, 0, 0 },
    { "word", K_CUE, 0, 0 }, { "name", K_CUE, 0, 0 }, { "named", K_CUE, 0, 0 },
    { "text", K_CUE, 0, 0 }, { "says", K_CUE, 0, 0 },

    /* never lettered as a theme word */
    { "tattoo*", K_STOP, 0, 0 }, { "design*", K_STOP, 0, 0 }, { "style*", K_STOP, 0, 0 },
    { "unique", K_STOP, 0, 0 }, { "describ*", K_STOP, 0, 0 }, { "depict*", K_STOP, 0, 0 },
    { "showing", K_STOP, 0, 0 }, { "with", K_STOP, 0, 0 }, { "that", K_STOP, 0, 0 },
    { "this", K_STOP, 0, 0 }, { "from", K_STOP, 0, 0 }, { "into", K_STOP, 0, 0 },
    { "white", K_STOP, 0, 0 }, { "background", K_STOP, 0, 0 }, { "image", K_STOP, 0, 0 },
    { "photo*", K_STOP, 0, 0 }, { "high", K_STOP, 0, 0 }, { "quality", K_STOP, 0, 0 },
    { "inspired", K_STOP, 0, 0 }, { "symbol*", K_STOP, 0, 0 }, { "representing", K_STOP, 0, 0 },
    { "piece", K_STOP, 0, 0 }, { "artwork", K_STOP, 0, 0 }, { "their", K_STOP, 0, 0 },
    { "about", K_STOP, 0, 0 }, { "featuring", K_STOP, 0, 0 }, { "evoking", K_STOP, 0, 0 },
};

/* Words after these name what surrounds the subject ("a wolf framed by
 * roses", "a lotus on a mandala"): subjects there count for less. */
static const char *const pg_secondary_cues[] = {
    "with", "by", "over", "among", "inside", "beneath", "on", "around", "under", "within",
    "surrounded", "framed", "wrapped", "entwined", "crowned", "behind", "between", "and", NULL,
};

static const char *const pg_subject_names[PG_S_COUNT] = {
    "mandala", "tribal", "geometric", "rose", "flower", "lotus", "botanical",
    "snake", "wolf", "big_cat", "bird", "koi", "butterfly", "spider", "skull",
    "dagger", "heart", "anchor", "eye", "compass", "celestial", "wave",
    "mountain", "feather", "lettering", "knot"
};

static const char *const pg_look_names[PG_L_COUNT] = {
    "blackwork", "fineline", "dotwork", "geometric", "tribal", "traditional",
    "neo_traditional", "sketch", "watercolor", "japanese", "minimalist",
    "ornamental", "trash_polka", "engraving"
};

const char *pg_subject_name(pg_subject s)
{
    return (unsigned)s < PG_S_COUNT ? pg_subject_names[s] : "?";
}

const char *pg_look_name(pg_lookid l)
{
    return (unsigned)l < PG_L_COUNT ? pg_look_names[l] : "?";
}

static int word_matches(const char *key, const char *w, size_t n)
{
    size_t k = strlen(key);
    if (k && key[k - 1] == '*')
        return n >= k - 1 && memcmp(key, w, k - 1) == 0;
    if (n == k)
        return memcmp(key, w, n) == 0;
    /* plurals: "roses", "foxes" */
    if (n == k + 1 && w[n - 1] == 's')
        return memcmp(key, w, k) == 0;
    if (n == k + 2 && w[n - 2] == 'e' && w[n - 1] == 's')
        return memcmp(key, w, k) == 0;
    return 0;
}

static pg_rgb hex_rgb(int hex)
{
    pg_rgb c = { ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0, (hex & 255) / 255.0 };
    return c;
}

/* Keeps letters, digits and single spaces, upper-cased, for the stroke font. */
static void set_text(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) && ch < 128)
            dst[o++] = (char)toupper(ch);
        else if ((ch == ' ' || ch == '-' || ch == '&') && o && dst[o - 1] != ' ')
            dst[o++] = ch == '&' ? '&' : ' ';
    }
    while (o && dst[o - 1] == ' ')
        o--;
    dst[o] = 0;
}

/* Text in straight double quotes wins over every other cue. */
static int quoted_text(pg_features *f, const char *p)
{
    const char *a = strchr(p, '"');
    if (!a)
        return 0;
    const char *b = strchr(a + 1, '"');
    if (!b || b == a + 1)
        return 0;
    set_text(f->text, sizeof f->text, a + 1, (size_t)(b - a - 1));
    return f->text[0] != 0;
}

#define MAX_WORDS 512

void pg_features_parse(const char *prompt, pg_features *f)
{
    memset(f, 0, sizeof *f);
    if (!prompt)
        prompt = "";
    /* Hash the lower-cased, space-collapsed prompt so that case and spacing
     * do not change the design. */
    uint64_t h = 0x5EEDu;
    int space = 1;
    for (const char *q = prompt; *q; q++) {
        unsigned char ch = (unsigned char)*q;
        if (isspace(ch)) {
            space = 1;
            continue;
        }
        if (space) {
            unsigned char sp = ' ';
            h = pg_hash_bytes(&sp, 1, h);
            space = 0;
        }
        ch = (unsigned char)(ch < 128 ? tolower(ch) : ch);
        h = pg_hash_bytes(&ch, 1, h);
    }
    f->hash = h;

    int have_text = quoted_text(f, prompt);
    int cue = 0, nwords = 0;
    double clause = 1.0; /* 1 in the main clause, less once a cue word was seen */
    char prev[32] = "";
    char theme[PG_TEXT_MAX] = "";
    const size_t nkw = sizeof pg_words / sizeof pg_words[0];
    const char *p = prompt;
    while (*p && nwords < MAX_WORDS) {
        while (*p && !(isalnum((unsigned char)*p) && (unsigned char)*p < 128))
            p++;
        const char *s = p;
        while (*p && isalnum((unsigned char)*p) && (unsigned char)*p < 128)
            p++;
        size_t n = (size_t)(p - s);
        if (!n)
            break;
        nwords++;
        char w[32];
        if (n >= sizeof w)
            n = sizeof w - 1;
        for (size_t i = 0; i < n; i++)
            w[i] = (char)tolower((unsigned char)s[i]);
        w[n] = 0;
        /* "shoulder blade" is a body part, not a knife */
        int body_blade = !strcmp(w, "blade") && !strcmp(prev, "shoulder");
        memcpy(prev, w, n + 1);
        if (body_blade) {
            f->body = 1;
            continue;
        }
        int cued = cue;
        cue = 0;
        for (const char *const *sc = pg_secondary_cues; *sc; sc++)
            if (!strcmp(w, *sc))
                clause = !strcmp(w, "and") ? (clause > 0.8 ? 0.8 : clause) : 0.45;
        if (!strcmp(w, "of"))
            clause = 1.0; /* "a tattoo of a wolf": the subject follows */
        int plain = 1; /* may serve as the theme word */
        for (size_t k = 0; k < nkw; k++) {
            const kw *e = &pg_words[k];
            if (!word_matches(e->word, w, n))
                continue;
            /* concrete nouns ("rose", "dagger") are pictured, not lettered */
            if ((e->kind != K_SUBJ && e->kind != K_HINT) || e->idx == PG_S_LETTERING || e->w >= 2.5)
                plain = 0;
            switch (e->kind) {
            case K_SUBJ: f->subj[e->idx] += e->w * clause; break;
            case K_LOOK: f->look[e->idx] += e->w; break;
            case K_HINT: f->hints |= 1ull << e->idx; break;
            case K_HUE:
                if (f->nhues < PG_MAX_HUES)
                    f->hue[f->nhues++] = hex_rgb(e->idx);
                break;
            case K_COLORFUL: f->colorful = 1; break;
            case K_MONO: f->mono = 1; break;
            case K_DETAIL: f->detail += e->w; break;
            case K_WEIGHT: f->weight += e->w; break;
            case K_BODY: f->body = 1; break;
            case K_CUE: cue = 1; break;
            default: break;
            }
        }
        /* The last long unknown word is the prompt's theme ("... describing
         * an eternal madness" -> MADNESS): what lettering spells by default. */
        if (cued && plain && !have_text && n >= 2) {
            set_text(f->text, sizeof f->text, s, n);
            have_text = f->text[0] != 0;
        }
        if (plain && n >= 4)
            set_text(theme, sizeof theme, s, n);
    }
    if (have_text) {
        /* keep the quoted or cued text */
    } else if (theme[0]) {
        memcpy(f->text, theme, sizeof f->text);
    }
    if (f->detail > 1) f->detail = 1;
    if (f->detail < -1) f->detail = -1;
    if (f->weight > 1) f->weight = 1;
    if (f->weight < -1) f->weight = -1;
}
