/* The built-in grammar of prompt.template. The words follow the seed
 * study's prompts ("In the style of TOK, a unique, intricate tattoo on the
 * forearm describing an eternal madness.") and are chosen so that the
 * offline renderer (image.procedural) recognises most styles and subjects:
 * a prompt's words are what makes two identities look different. */
#include "pb.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]) - 1)

static const char *const pb_adjectives[] = {
    "unique", "intricate", "striking", "bold", "delicate", "elegant", "detailed", "ornate",
    "subtle", "dramatic", "timeless", "mysterious", "dynamic", "graceful", "haunting",
    "expressive", "refined", "raw", "clean", "minimal", "symmetrical", "flowing", "dark",
    "whimsical", "powerful", "small", "large", "elaborate", "poetic", "surreal", NULL};

static const char *const pb_styles[] = {
    "blackwork", "fineline", "dotwork", "geometric", "tribal", "traditional", "neo-traditional",
    "sketch", "watercolor", "Japanese", "minimalist", "ornamental", "trash polka", "engraving",
    "linework", "Polynesian", "illustrative", "woodcut", "stippled", "old school", "Celtic",
    "gothic", "mehndi", "single-line", NULL};

static const char *const pb_subjects[] = {
    "a wolf", "a howling wolf", "a lion", "a tiger", "a fox", "a panther", "a raven", "an eagle",
    "a swallow", "a phoenix", "a hummingbird", "a dove", "an owl", "a koi fish", "a snake",
    "a coiled serpent", "a dragon", "a butterfly", "a moth", "a spider", "a spider web",
    "a skull", "a dagger", "a sword", "a sacred heart", "an anchor", "an all-seeing eye",
    "a compass", "a crescent moon", "the sun", "a constellation", "a great wave",
    "a mountain range", "a pine forest", "a feather", "an arrow", "a rose", "a peony",
    "a lotus", "a cherry blossom branch", "a sunflower", "a fern", "an olive branch",
    "a mandala", "a Celtic knot", "a triquetra", "a hexagon", "a sacred geometry pattern",
    "a dreamcatcher", "a deer", "a bear", "a whale", "an hourglass", "a key", "a lighthouse",
    "a ship", "a cat", "a scorpion", "a bee", "a jellyfish", "an octopus", "a hand holding a rose",
    "a tree of life", "a hummingbird and a flower", "a lettering quote", "a word in script",
    "an ouroboros", "a planet", "an eclipse", "a leopard", NULL};

static const char *const pb_motifs[] = {
    "", "", "", "framed by roses", "wrapped in vines", "surrounded by dots", "inside a circle",
    "over a mandala", "with geometric lines", "among stars", "with flowing waves",
    "on a crescent moon", "with a banner", "entwined with a snake", "crowned with flames",
    "with scattered leaves", "inside a triangle", "with sacred geometry", "with fine dotwork shading",
    "with feathers", "with a ribbon", "beneath a full moon", "with ornamental filigree",
    "with bold black shading", "with splashes of red", "with blue accents", "with golden details",
    "with Celtic knotwork", "with a compass rose", "in a hexagon", NULL};

static const char *const pb_body_parts[] = {
    "forearm", "inner forearm", "wrist", "upper arm", "shoulder", "shoulder blade", "back",
    "lower back", "chest", "ribs", "collarbone", "neck", "nape of the neck", "hand", "finger",
    "thigh", "calf", "ankle", "shin", "hip", "spine", "bicep", "elbow", "sternum", "foot", NULL};

static const char *const pb_moods[] = {
    "eternal", "quiet", "fierce", "endless", "forgotten", "silent", "wild", "sacred", "restless",
    "fragile", "burning", "hidden", "boundless", "lost", "gentle", "ancient", "unbroken",
    "fleeting", "inner", "distant", "untamed", "bittersweet", "relentless", "secret", NULL};

static const char *const pb_themes[] = {
    "madness", "love", "freedom", "grief", "hope", "courage", "loyalty", "rebirth", "memory",
    "longing", "strength", "peace", "chaos", "wisdom", "solitude", "devotion", "transformation",
    "wanderlust", "resilience", "mortality", "balance", "faith", "nostalgia", "fury", "serenity",
    "journey", "passion", "protection", "fear", "dream", NULL};

static const pb_list pb_builtin[PB_NSLOTS] = {
    [PB_ADJ] = {pb_adjectives, N_OF(pb_adjectives)},
    [PB_STYLE] = {pb_styles, N_OF(pb_styles)},
    [PB_SUBJECT] = {pb_subjects, N_OF(pb_subjects)},
    [PB_MOTIF] = {pb_motifs, N_OF(pb_motifs)},
    [PB_BODY] = {pb_body_parts, N_OF(pb_body_parts)},
    [PB_MOOD] = {pb_moods, N_OF(pb_moods)},
    [PB_THEME] = {pb_themes, N_OF(pb_themes)},
};

static const char *const pb_params[PB_NSLOTS] = {
    [PB_ADJ] = "adjectives", [PB_STYLE] = "styles", [PB_SUBJECT] = "subjects",
    [PB_MOTIF] = "motifs", [PB_BODY] = "body_parts", [PB_MOOD] = "moods", [PB_THEME] = "themes",
};

pb_list pb_vocab_builtin(int slot) { return pb_builtin[slot]; }
const char *pb_vocab_param(int slot) { return pb_params[slot]; }
