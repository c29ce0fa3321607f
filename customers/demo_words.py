"""The demo company's vocabulary: names, places, equipment makes and the technicians' summaries.

Kept apart from demo.py so the generator reads as code. Everything here is invented: phone numbers
are in the 555 exchange, e-mail addresses on the reserved example domains.
"""

import re
from functools import cache
from string import Formatter

HVAC, PLUMBING, ELECTRICAL = "hvac", "plumbing", "electrical"
TRADES = (HVAC, PLUMBING, ELECTRICAL)
TRADE_CUM_WEIGHTS = (50, 82, 100)
TRADE_KINDS = {
    HVAC: {"furnace", "air_conditioner", "heat_pump", "boiler"},
    PLUMBING: {"water_heater", "tankless_water_heater", "sump_pump", "water_softener", "sewer_line"},
    ELECTRICAL: {"electrical_panel", "generator"},
}
JOB_KINDS = ("service_call", "maintenance", "install", "estimate", "callback_revisit")
JOB_KIND_CUM_WEIGHTS = {
    HVAC: (45, 83, 89, 98, 100),
    PLUMBING: (58, 70, 87, 97, 100),
    ELECTRICAL: (50, 60, 85, 98, 100),
}

KINDS = (
    "furnace", "air_conditioner", "heat_pump", "boiler", "water_heater", "tankless_water_heater", "sump_pump",
    "water_softener", "sewer_line", "electrical_panel", "generator", "other",
)
KIND_INDEX = {kind: i for i, kind in enumerate(KINDS)}
LABELS = {
    "furnace": "furnace", "air_conditioner": "AC", "heat_pump": "heat pump", "boiler": "boiler",
    "water_heater": "water heater", "tankless_water_heater": "tankless", "sump_pump": "sump pump",
    "water_softener": "softener", "sewer_line": "main sewer line", "electrical_panel": "panel",
    "generator": "generator", "other": "unit",
}

# (make, models, serial format): yy/ww are the install year and week, n five digits, L a letter.
_MAKES = {
    "furnace": [
        ("Carrier", ["59SC5A080S17", "59TP6B100V21", "58STA090"], "{ww:02d}{yy:02d}A{n:05d}"),
        ("Lennox", ["SL280UH070V36A", "EL296UH090XV48C", "ML180UH070P36A"], "59{yy:02d}{ww:02d}{n:05d}"),
        ("Trane", ["S9V2B080U4PSA", "S8X1B060M3PSA", "XR80"], "{yy:02d}{ww:02d}{L}{n:05d}"),
        ("Goodman", ["GMVC960803BN", "GMSS920603BN", "GMEC960804CN"], "{yy:02d}{ww:02d}{n:05d}{L}"),
        ("Rheem", ["R96VA0702317MSA", "R801TA075317MSA"], "{L}{ww:02d}{yy:02d}F{n:05d}"),
        ("Bryant", ["926TB36060V17", "915SB42080E17"], "{ww:02d}{yy:02d}A{n:05d}"),
    ],
    "air_conditioner": [
        ("Carrier", ["24ACC636A003", "24ABB336A003", "24VNA036A003"], "{ww:02d}{yy:02d}E{n:05d}"),
        ("Lennox", ["16ACX-036-230", "ML14XC1-036-230A", "XC21-036-230"], "19{yy:02d}{ww:02d}{n:05d}"),
        ("Trane", ["4TTR4036L1000A", "4TTR6036J1000A", "XR13"], "{yy:02d}{ww:02d}{L}{n:05d}"),
        ("Goodman", ["GSX140361", "GSXN403610"], "{yy:02d}{ww:02d}{n:05d}{L}"),
        ("American Standard", ["4A7A4036L1000A", "Silver 14"], "{yy:02d}{ww:02d}{L}{n:05d}"),
    ],
    "heat_pump": [
        ("Carrier", ["25HCB636A003", "25VNA036A003"], "{ww:02d}{yy:02d}X{n:05d}"),
        ("Mitsubishi", ["MUZ-FH12NA", "MXZ-3C24NA", "PUZ-HA36NHA5"], "{yy:01d}{n:05d}{L}"),
        ("Trane", ["4TWR4036H1000A", "XV20i"], "{yy:02d}{ww:02d}{L}{n:05d}"),
        ("Daikin", ["DZ14SA0361", "RX18AXVJU"], "{yy:02d}{ww:02d}{n:05d}"),
    ],
    "boiler": [
        ("Weil-McLain", ["CGa-4", "Ultra-155", "GV90+4"], "CP{n:05d}{yy:02d}"),
        ("Burnham", ["ES2-4", "Alpine ALP150"], "{n:05d}{yy:02d}"),
        ("Lochinvar", ["Noble NKC199N", "Knight WBN110"], "{yy:02d}{ww:02d}{n:05d}"),
    ],
    "water_heater": [
        ("A. O. Smith", ["GCR-50 200", "GPVL-50 200", "ENS-40"], "{yy:02d}{ww:02d}{L}{n:05d}"),
        ("Bradford White", ["RG250T6N", "RG240S6N", "RE250T6"], "{L}H{n:05d}{yy:02d}"),
        ("Rheem", ["XG50T06EC36U1", "PROG50-38N RH67"], "Q{yy:02d}{ww:02d}{n:05d}"),
        ("State", ["GS650YBRT", "ProLine GS640"], "{yy:02d}{ww:02d}{n:05d}"),
    ],
    "tankless_water_heater": [
        ("Navien", ["NPE-240A2", "NCB-240E", "NPE-180S2"], "{n:05d}{yy:02d}{ww:02d}{L}"),
        ("Rinnai", ["RU199iN", "RUR160iN", "V65iN"], "{yy:02d}{ww:02d}{n:05d}"),
    ],
    "sump_pump": [
        ("Zoeller", ["M53 Mighty-Mate", "M98 Flow-Mate"], ""),
        ("Liberty Pumps", ["257", "287"], ""),
        ("Wayne", ["CDU980E", "WSS30V backup"], ""),
    ],
    "water_softener": [
        ("Culligan", ["HE 1.25\"", "Medallist Plus"], "{yy:02d}{n:05d}"),
        ("Kinetico", ["Premier S250", "K5 Drinking Water Station"], "{n:05d}{yy:02d}"),
    ],
    "sewer_line": [("", ["4\" cast iron to clay tile", "4\" PVC", "6\" clay tile", "4\" Orangeburg"], "")],
    "electrical_panel": [
        ("Square D", ["QO130L200PG", "HOM3060M200PC", "QO142M200"], ""),
        ("Eaton", ["BR2040B200", "CH32BP", "BRP20B125"], ""),
        ("Siemens", ["PN4040B1200C", "S4040B1200"], ""),
        ("Federal Pacific", ["Stab-Lok 200A", "Stab-Lok 100A"], ""),
        ("Zinsco", ["Sylvania 100A"], ""),
    ],
    "generator": [
        ("Generac", ["7043 22kW Guardian", "7210 24kW", "7033 14kW"], "{n:05d}{yy:02d}{ww:02d}"),
        ("Kohler", ["20RESCL", "14RESAL"], "SGM{n:05d}{L}"),
    ],
}
MAKES, MAKES_BY_KIND = [], {}
for _kind, _entries in _MAKES.items():
    for _entry in _entries:
        MAKES_BY_KIND.setdefault(_kind, []).append(len(MAKES))
        MAKES.append(_entry)
# Older panels the trade replaces on sight are rare, and in older houses.
MAKES_BY_KIND["electrical_panel"] = [i for i in MAKES_BY_KIND["electrical_panel"] for _ in range(
    1 if MAKES[i][0] in ("Federal Pacific", "Zinsco") else 5)]


def site_equipment(rng, commercial):
    """The equipment kinds found at a site: a heating/cooling system, hot water, the panel, extras."""
    if commercial:
        kinds = [rng.choice(("furnace", "heat_pump")) for _ in range(rng.randrange(1, 4))]
        kinds += ["air_conditioner"] * rng.randrange(1, 3)
        kinds += ["water_heater", "electrical_panel"]
        if rng.random() < 0.3:
            kinds.append("generator")
        return kinds
    roll = rng.random()
    if roll < 0.62:
        kinds = ["furnace", "air_conditioner"]
    elif roll < 0.77:
        kinds = ["heat_pump", "furnace"] if rng.random() < 0.5 else ["heat_pump"]
    elif roll < 0.88:
        kinds = ["boiler", "air_conditioner"] if rng.random() < 0.4 else ["boiler"]
    else:
        kinds = ["furnace"]
    kinds.append("tankless_water_heater" if rng.random() < 0.15 else "water_heater")
    for kind, chance in (("electrical_panel", 0.7), ("sump_pump", 0.35), ("water_softener", 0.15),
                         ("sewer_line", 0.25), ("generator", 0.06)):
        if rng.random() < chance:
            kinds.append(kind)
    return kinds


EQUIPMENT_NOTES = {
    "furnace": ("Filter 16x25x1, slot by the return drop.", "Inducer motor replaced under warranty.",
                "In the crawl space: bring a drop cloth and a light.", "Horizontal install in attic."),
    "air_conditioner": ("Condenser behind the deck; gate latch sticks.", "R-22 system.",
                        "Hard start kit added."),
    "water_heater": ("Expansion tank on cold side.", "Anode rod replaced.", "Drain pan, no drain line."),
    "tankless_water_heater": ("Descale yearly: hard water.", "Isolation valves installed."),
    "electrical_panel": ("Main breaker 200A; no spare spaces.", "Double-tapped breakers noted.",
                         "Aluminium branch wiring in bedrooms."),
    "sewer_line": ("Cleanout in the front yard by the maple.", "Root intrusion at 42 ft.", "Belly at 60 ft."),
    "sump_pump": ("Battery backup installed.", "Discharge line freezes: extension in winter."),
    "generator": ("Automatic transfer switch in the garage.", "Exercise cycle Tuesdays at noon."),
}

STAFF_NAMES = [
    ("Tom", "Alvarez"), ("Dwayne", "Kowalski"), ("Luis", "Ortega"), ("Kevin", "Brandt"), ("Marcus", "Webb"),
    ("Jake", "Sorensen"), ("Ray", "Delgado"), ("Andre", "Fischer"),  # technicians
    ("Carla", "Reyes"), ("Denise", "Okafor"), ("Brittany", "Lund"),  # CSRs
    ("Morgan", "Hale"), ("Pat", "Gallagher"),  # managers
    ("Sam", "Park"),  # sales
]
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa "
    "George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy Jacob "
    "Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin Nicole Scott "
    "Anna Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick Carolyn Frank "
    "Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria "
    "Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith "
    "Jeremy Evelyn Christian Hannah Walter Andrea Keith Megan Austin Cheryl Roger Jacqueline Terry Madison Sean "
    "Teresa Gerald Abigail Carl Sophia Dylan Martha Harold Sara Jordan Gloria Jesse Janice Bryan Kathryn Lawrence "
    "Ann Arthur Isabella Gabriel Judy Bruce Charlotte Logan Julia Billy Grace Joe Amber Alan Alice Juan Jean "
    "Elijah Denise Willie Frances Albert Danielle Wayne Marilyn Randy Natalie Mason Beverly Vincent Diana Liam "
    "Brittany Roy Theresa Bobby Kayla Caleb Alexis Bradley Doris Russell Lori Lucas Tiffany Priya Wei Mohammed "
    "Fatima Hiroshi Aisha Dmitri Ingrid Tomasz Agnieszka Guadalupe Rafael Ngozi Minh Soo-jin"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim "
    "Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler "
    "Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford "
    "Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman "
    "Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon "
    "Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kowalczyk "
    "Nowak Wisniewski Kaminski Lindqvist Johansson O'Brien O'Connor McCarthy Schultz Becker Hoffmann Yamamoto "
    "Okonkwo Haddad Novak Petrov Christensen Larsen Dubois Rossi Esposito Kaur Singh Shah Zhang Liu Park Choi"
).split()
_BUSINESS_KINDS = (
    ("Family Dentistry", "office"), ("Property Management", "maintenance"), ("Animal Hospital", "office"),
    ("Lutheran Church", "office"), ("Auto Repair", "service"), ("Family Restaurant", "manager"),
    ("Apartments", "leasing"), ("Physical Therapy", "frontdesk"), ("Insurance Agency", "office"),
    ("Hardware", "store"), ("Bakery", "orders"), ("Montessori School", "facilities"), ("Law Offices", "admin"),
    ("Fitness", "manager"), ("Condominium Association", "board"), ("Veterinary Clinic", "office"),
)
_BUSINESS_PREFIXES = (
    "Lakeview Oakwood Riverside Prairie Northbrook Elmhurst Maple Cedar Fox-Valley Heritage Willow Summit "
    "Parkside Brookfield Harbor Meadowlark Ironwood Stonegate Bluestem Westfield"
).split()


def business_name(rng):
    kind, mailbox = rng.choice(_BUSINESS_KINDS)
    prefix = rng.choice(_BUSINESS_PREFIXES + LAST_NAMES[:60]).replace("-", " ")
    suffix = rng.choice(("", "", " LLC", " Inc.", ", Ltd."))
    name = f"{prefix} {kind}{suffix}"
    return name, mailbox, f"{slug(prefix + kind)}.example.com"


def slug(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
AREA_CODES = (312, 773, 872, 630, 331, 708, 847, 224, 815, 779, 219, 262, 309, 217, 618)
PHONE_FORMATS = ("({a}) {e}-{n}", "{a}-{e}-{n}", "{a}.{e}.{n}", "{a}{e}{n}", "+1 {a} {e} {n}", "1-{a}-{e}-{n}")
PHONE_FORMAT_WEIGHTS = (40, 30, 10, 10, 5, 5)
CITIES = (
    ("Evanston", "IL", "60201"), ("Skokie", "IL", "60076"), ("Oak Park", "IL", "60302"),
    ("Naperville", "IL", "60540"), ("Arlington Heights", "IL", "60004"), ("Schaumburg", "IL", "60193"),
    ("Des Plaines", "IL", "60016"), ("Park Ridge", "IL", "60068"), ("Wilmette", "IL", "60091"),
    ("Glenview", "IL", "60025"), ("Palatine", "IL", "60067"), ("Elmhurst", "IL", "60126"),
    ("Downers Grove", "IL", "60515"), ("Wheaton", "IL", "60187"), ("Chicago", "IL", "60614"),
    ("Chicago", "IL", "60625"), ("Chicago", "IL", "60657"), ("Chicago", "IL", "60618"),
    ("Mount Prospect", "IL", "60056"), ("Northbrook", "IL", "60062"), ("Highland Park", "IL", "60035"),
    ("Niles", "IL", "60714"), ("Morton Grove", "IL", "60053"), ("Lombard", "IL", "60148"),
    ("Berwyn", "IL", "60402"), ("La Grange", "IL", "60525"), ("Hinsdale", "IL", "60521"),
)
STREETS = (
    "Maple Oak Elm Cedar Pine Willow Chestnut Walnut Hickory Birch Church Main Park Lake Central Ridge Prospect "
    "Greenwood Sheridan Hawthorne Forest Grove Dempster Golf Central Harlem Cumberland Ashland Damen Western "
    "Kedzie Pulaski Cicero Lincoln Lawrence Foster Devon Touhy Oakton Emerson Washington Jefferson Madison Monroe "
    "Jackson Adams Franklin Highland Hillside Sunset Meadow Orchard Spring Fairview Linden Locust Sycamore "
    "Magnolia Dogwood Juniper Laurel Cherry Thornwood Briarwood Crestview Wildwood Kingston Essex Dover"
).split()
STREET_SUFFIXES = ("St", "Ave", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Pl", "Way", "Ter")
COMMERCIAL_SITE_LABELS = ("Main office", "Building A", "Building B", "Warehouse", "North store", "South store",
                          "Clubhouse", "Annex", "Unit block C", "Unit block D", "Garage", "Shop")
SECOND_SITE_LABELS = ("Rental on the north side", "Lake house", "Mom's house", "Two-flat (rental)", "Office")
CUSTOMER_NOTES = (
    "Prefers morning appointments; works nights.",
    "Two large dogs: call from the driveway before coming to the door.",
    "Elderly homeowner. Her son Mark approves anything over $300 — call him first.",
    "Had a bad experience with another contractor: explain every step before starting.",
    "Wants a text 30 minutes before arrival.",
    "Shoe covers, please — new carpet.",
    "Hard of hearing: knock loudly, or text.",
    "Landlord; tenants let us in. Bill the owner, not the tenant.",
    "Spanish preferred (Luis or Ray).",
    "Member of the maintenance plan: two tune-ups a year, 15% off repairs.",
    "Asked not to be sold to — recommend, don't push.",
    "Park on the street; the driveway is shared with the neighbour.",
)
COMMERCIAL_NOTES = (
    "PO number required on every invoice; invoices to accounts payable.",
    "Check in at the front desk and sign the contractor log.",
    "Work before 8 am or after 5 pm only: patients during the day.",
    "Roof access through the ladder in the back storage room; key from the manager.",
    "Net 30. Facilities manager approves anything over $1,000.",
)
ACCESS_NOTES = (
    "Gate code 4411#.", "Key in the lockbox on the side door, code 2580.", "Furnace and water heater in the "
    "crawl space.", "Basement entrance at the back of the house.", "Equipment in the attic; pull-down ladder in "
    "the hall closet.", "Park in the alley; garage side door.", "Ring the bell twice; the tenant is upstairs.",
)
CANCEL_REASONS = (
    "Cancelled by customer: problem went away.", "Cancelled by customer: rescheduled for next week.",
    "Cancelled: customer chose another contractor.", "Cancelled: no one home, customer did not answer.",
    "Cancelled by office: parts on back order.",
)


def day_weight(day, today):
    """How busy a day is: weekdays full, Saturdays light, Sundays emergencies only; HVAC peaks in
    January and July; the coming days are only partly booked yet."""
    weight = (1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.08)[day.weekday()]
    weight *= (1.3, 1.2, 0.9, 0.8, 0.9, 1.1, 1.3, 1.25, 0.95, 0.85, 1.0, 1.2)[day.month - 1]
    ahead = (day - today).days
    if ahead > 0:
        weight *= max(0.2, 1 - ahead / 16)
    return weight


# -- work-order summaries -------------------------------------------------------------------------

SLOTS = {
    "rise": lambda rng: rng.randrange(38, 62),
    "ua": lambda rng: f"{rng.uniform(0.4, 4.8):.1f}",
    "static": lambda rng: f"{rng.uniform(0.38, 0.95):.2f}",
    "superheat": lambda rng: rng.randrange(6, 22),
    "subcool": lambda rng: rng.randrange(6, 14),
    "lbs": lambda rng: rng.choice(("1", "1.5", "2", "3")),
    "mfd": lambda rng: rng.choice(("35/5", "40/5", "45/5", "7.5", "10")),
    "amps": lambda rng: rng.randrange(9, 34),
    "ppm": lambda rng: rng.randrange(0, 9),
    "psi": lambda rng: rng.randrange(62, 98),
    "ft": lambda rng: rng.randrange(18, 85),
    "price": lambda rng: f"{rng.randrange(12, 60) * 100:,}",
    "price2": lambda rng: f"{rng.randrange(65, 160) * 100:,}",
    "days": lambda rng: rng.randrange(2, 20),
    "filter": lambda rng: rng.choice(("16x25x1", "20x25x1", "16x25x4", "20x20x1", "16x20x1")),
}

_EQUIPMENT_SUMMARIES = {
    ("furnace", "service_call"): (
        "No heat. Hot surface igniter cracked; replaced igniter, cycled unit 3x. Temp rise {rise}°F, flame sensor "
        "{ua} µA after cleaning.",
        "No heat, board flashing 3 (pressure switch). Condensate trap plugged; cleaned trap and hose, cleared "
        "inducer drain. Ran 20 min, no lockouts.",
        "Short cycling. Flame sensor at {ua} µA; cleaned with emery cloth. Filter was {filter}, caked — replaced. "
        "Static pressure {static}\" w.c. Recommended a 4\" media cabinet.",
        "Blower not running. Failed run capacitor ({mfd} µF); replaced. Motor amps {amps}A within nameplate.",
        "Noisy on start-up (rumble). Burners dirty and out of alignment; pulled, cleaned and set burners. Checked "
        "heat exchanger with camera, no cracks found. CO at register {ppm} ppm.",
        "Customer smelled gas near {make} furnace. Found loose flare on the gas cock; re-made connection, leak "
        "tested with solution. No leak. Advised CO detector in the hallway.",
    ),
    ("furnace", "maintenance"): (
        "Heating tune-up, {age}-year-old {make}. Cleaned burners and flame sensor ({ua} µA), replaced {filter} "
        "filter, checked temp rise {rise}°F, CO {ppm} ppm. Running as designed.",
        "Fall safety inspection: heat exchanger visually OK, venting secure, inducer amps normal, condensate "
        "flushed. Static {static}\" w.c. — on the high side; discussed return air.",
    ),
    ("air_conditioner", "service_call"): (
        "No cooling, outdoor unit humming. Failed dual capacitor ({mfd}); replaced. Superheat {superheat}°F, "
        "subcool {subcool}°F after it settled.",
        "Warm air. Contactor pitted and welded; replaced contactor. Condenser coil dirty — rinsed. Cooling restored.",
        "Ice on the suction line. Filter {filter} plugged and evaporator iced; thawed, new filter, checked charge: "
        "{lbs} lb low. Leak search found a pinhole at the service valve; brazed, pressure tested, evacuated, "
        "recharged.",
        "Water on the basement floor. Condensate line clogged with algae; cleared with vacuum, flushed, added "
        "tablets. Float switch installed on the pan.",
        "AC trips breaker. Compressor pulling {amps}A on start; added hard start kit. Recommended planning for "
        "replacement: {age}-year-old {make}.",
    ),
    ("air_conditioner", "maintenance"): (
        "Cooling tune-up. Washed condenser coil, checked capacitor and contactor, superheat {superheat}°F, "
        "subcool {subcool}°F, temperature split 19°F. Cleared condensate drain.",
        "Spring start-up on {make} condenser: coil cleaned, disconnect tightened, refrigerant pressures normal.",
    ),
    ("heat_pump", "service_call"): (
        "Heat pump blowing cold in heat mode. Reversing valve solenoid coil open; replaced coil. Heat mode "
        "supply 96°F.",
        "Outdoor unit iced solid. Defrost sensor failed; replaced sensor, forced defrost, unit cleared.",
        "Mini-split flashing error on the head. Indoor coil and blower wheel matted with dust; cleaned with coil "
        "bag, cleared error. Showed customer how to clean the filters.",
    ),
    ("heat_pump", "maintenance"): (
        "Heat pump maintenance: coils cleaned, defrost test OK, aux heat strips {amps}A, charge verified "
        "(subcool {subcool}°F).",
    ),
    ("boiler", "service_call"): (
        "No heat upstairs. Air in the zone; purged zones, pressure set to 12 psi. Expansion tank waterlogged — "
        "replaced tank.",
        "Boiler locking out. Low water cut-off probe scaled; cleaned probe, flushed LWCO. Circulator amps normal.",
        "Relief valve dripping. System pressure 32 psi: fill valve creeping. Replaced pressure reducing valve "
        "and relief valve.",
    ),
    ("boiler", "maintenance"): (
        "Annual boiler service on {age}-year-old {make}: combustion analysis CO {ppm} ppm, cleaned burners, "
        "tested LWCO and relief valve, pressure 12 psi.",
    ),
    ("water_heater", "service_call"): (
        "No hot water. Pilot out; thermocouple reading low. Replaced thermocouple, relit, verified draft at hood.",
        "Water heater leaking at the base — tank failure, {age}-year-old {make}. Shut off and drained; customer "
        "approved replacement, scheduled for tomorrow.",
        "Rumbling and popping. Heavy sediment; flushed tank until clear. Anode rod 80% consumed — replaced.",
        "Not enough hot water. Dip tube broken; replaced dip tube, flushed out the pieces from the strainers.",
        "T&P valve discharging. Pressure {psi} psi at the hose bib and no expansion tank. Installed 2 gal "
        "expansion tank and set PRV to 60 psi.",
    ),
    ("water_heater", "maintenance"): (
        "Water heater flush and inspection. Drained sediment, tested T&P, checked venting and draft. "
        "Anode inspected, OK.",
    ),
    ("tankless_water_heater", "service_call"): (
        "Tankless showing error 11 (no ignition). Gas pressure low on high fire; upsized the regulator, cleaned "
        "inlet filter. Fires on every demand.",
        "Water goes hot-cold-hot. Scale in the heat exchanger; descaled with pump and vinegar 45 min, cleaned "
        "inlet screen.",
    ),
    ("tankless_water_heater", "maintenance"): (
        "Annual descale of {make} tankless through the isolation valves; cleaned inlet filter and condensate trap.",
    ),
    ("sump_pump", "service_call"): (
        "Sump pump running constantly. Float stuck on the discharge pipe; re-hung pump level, replaced check valve.",
        "Pump failed (motor seized). Replaced with {make} 1/3 HP, new check valve, tested with a full pit.",
    ),
    ("sump_pump", "maintenance"): (
        "Spring sump check: cleaned pit, tested float and alarm, battery backup load tested.",
    ),
    ("water_softener", "service_call"): (
        "Hard water again. Salt bridge in the brine tank; broke up bridge, cleaned injector screen, forced a "
        "regeneration.",
    ),
    ("water_softener", "maintenance"): (
        "Softener service: cleaned brine tank, reset hardness setting to 18 gpg, checked bypass valve.",
    ),
    ("sewer_line", "service_call"): (
        "Main line backup into the basement floor drain. Cabled from the cleanout with 3\" cutter, roots at "
        "{ft} ft. Camera inspection recorded; line flowing.",
        "Slow drains throughout. Grease blockage at {ft} ft; cleared and jetted. Camera shows offset joint "
        "at {ft} ft.",
    ),
    ("sewer_line", "maintenance"): (
        "Yearly root maintenance: cabled main from cleanout to the city tap, heavy roots at {ft} ft, applied "
        "root treatment.",
    ),
    ("electrical_panel", "service_call"): (
        "Breaker keeps tripping on kitchen circuit. Overloaded 15A circuit with microwave and toaster; split "
        "counter receptacles onto a new 20A circuit.",
        "Burning smell at the panel. Loose lug on a 20A breaker, bus scorched. Replaced breaker, cleaned bus; "
        "{age}-year-old {make} panel — recommended replacement.",
        "Half the house lost power. Main neutral loose at the meter base; utility notified, tightened, "
        "voltages 121/119 V.",
    ),
    ("electrical_panel", "maintenance"): (
        "Electrical safety inspection: torqued lugs, thermal scan of the panel (no hot spots), tested GFCI "
        "and AFCI breakers, labelled the directory.",
    ),
    ("generator", "service_call"): (
        "Generator will not start: battery dead at 10.2 V. Replaced battery, test ran under load through the "
        "transfer switch.",
        "Generator fault 'overcrank'. Fuel pressure low; replaced regulator diaphragm, exercised unit, cleared fault.",
    ),
    ("generator", "maintenance"): (
        "Generator service: oil and filter, spark plugs, air filter, valve clearance, load test 30 min.",
    ),
}
_GENERAL_SUMMARIES = {
    (HVAC, "service_call"): (
        "Thermostat blank. Blown 3A fuse on the furnace board from a shorted thermostat wire at the condenser; "
        "repaired splice, replaced fuse.",
        "Upstairs rooms hot. Dampers closed on the second-floor trunk; balanced the system, measured 4°F difference.",
    ),
    (HVAC, "install"): (
        "Installed Honeywell T6 Pro thermostat, programmed schedule, showed customer the app.",
        "Installed Aprilaire 600 bypass humidifier on the supply plenum, water line and drain; set to 35%.",
        "Installed 4\" media filter cabinet on the return, sealed with mastic. Static dropped to {static}\" w.c.",
        "Installed ecobee smart thermostat with power extender kit; verified heating, cooling and fan calls.",
    ),
    (PLUMBING, "service_call"): (
        "Kitchen sink drain slow. Cleared with 1/4\" cable from the trap arm, flushed with hot water.",
        "Running toilet upstairs: replaced fill valve and 3\" flapper. No more ghost flushing.",
        "Leak under the bathroom vanity: cracked compression nut; replaced both supplies with braided lines.",
        "Outside hose bib split from freezing. Replaced with 10\" frost-free sillcock, tested for leaks.",
        "Low water pressure at the whole house ({psi} psi). PRV failed; replaced 3/4\" PRV, set to 60 psi.",
    ),
    (PLUMBING, "install"): (
        "Installed new Moen kitchen faucet with pull-down spray and new shut-off valves.",
        "Replaced garbage disposal with InSinkErator Evolution 3/4 HP; new dishwasher knockout, tested.",
        "Installed new Kohler comfort-height toilet, new wax ring and closet bolts.",
        "Installed whole-house sediment filter after the meter with bypass loop.",
        "Replaced corroded galvanized supply to the kitchen with PEX, {ft} ft.",
    ),
    (ELECTRICAL, "service_call"): (
        "Half the kitchen outlets dead. Tripped GFCI in the garage feeding them; found wet exterior outlet, "
        "replaced with weather-resistant GFCI and in-use cover.",
        "Flickering lights in the living room. Loose neutral on a back-stabbed receptacle; moved 4 devices to "
        "screw terminals.",
        "Bathroom fan not working. Motor seized; replaced with a quiet 80 CFM fan on the existing duct.",
    ),
    (ELECTRICAL, "install"): (
        "Installed 50A circuit and NEMA 14-50 receptacle in the garage for the EV charger; permit pulled.",
        "Replaced 6 recessed cans with LED wafer lights on a dimmer.",
        "Installed ceiling fan on a fan-rated box in the master bedroom.",
        "Added a dedicated 20A circuit for the basement freezer.",
        "Installed whole-home surge protector at the panel.",
    ),
}
_ESTIMATES = (
    "Estimate: replace {age}-year-old {make} {label}. Presented three options, ${price} to ${price2}; customer "
    "will discuss and call back.",
    "Estimate for {label} replacement: unit is {age} years old and repairs are adding up. Quoted ${price}; "
    "financing brochure left.",
    "Second opinion on the {label}: another company quoted replacement. Repair possible for ${price}; "
    "left written estimate.",
)
_CALLBACK_REVISITS = (
    "Return visit: {label} acting up again {days} days after our repair. Wire nut we installed had backed off; "
    "re-made the connection, tested 3 cycles. No charge. Apologised to customer.",
    "Return visit: same complaint on the {label}. Part we replaced was fine — real cause missed the first time "
    "(loose connection upstream). Repaired and tested. No charge.",
    "Return visit for the {label}: leak at the fitting we made last visit. Re-soldered, pressure tested, "
    "dried the area. No charge.",
    "Return visit: {label} part failed within {days} days (new part DOA). Replaced under warranty, no charge.",
)


@cache
def _fields(template):
    return tuple(name for _, name, _, _ in Formatter().parse(template) if name)


def _fill(rng, template, **known):
    names = _fields(template)
    if not names:
        return template
    return template.format(**{name: known[name] if name in known else SLOTS[name](rng) for name in names})


def equipment_summary(rng, equipment_kind, job_kind, make, age):
    label = LABELS[equipment_kind]
    if job_kind == "estimate":
        template = rng.choice(_ESTIMATES)
    elif job_kind == "callback_revisit":
        template = rng.choice(_CALLBACK_REVISITS)
    else:
        templates = _EQUIPMENT_SUMMARIES.get((equipment_kind, job_kind)) or _EQUIPMENT_SUMMARIES.get(
            (equipment_kind, "service_call"), ("Checked the {label}; running as designed.",))
        template = rng.choice(templates)
    return _fill(rng, template, make=make or "the", age=max(age, 1), label=label)


def general_summary(rng, trade, job_kind):
    if job_kind == "estimate":
        return _fill(rng, "Estimate for {label} work: walked the job with the customer, quoted ${price}.",
                     label={HVAC: "ductwork", PLUMBING: "repiping", ELECTRICAL: "panel and circuit"}[trade])
    if job_kind == "callback_revisit":
        return _fill(rng, rng.choice(_CALLBACK_REVISITS), label="repair", age=1)
    templates = _GENERAL_SUMMARIES.get((trade, job_kind)) or _GENERAL_SUMMARIES[(trade, "service_call")]
    return _fill(rng, rng.choice(templates))
